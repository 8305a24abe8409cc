package handlers

import (
	"html/template"

	"fleetprompt/store"
)

// IsSolution and IsOpening place the post in its thread.
func (v forumPostView) IsSolution() bool { return v.Post.ID == v.Thread.SolutionID }

// IsOpening reports whether the post opens its thread.
func (v forumPostView) IsOpening() bool { return v.Post.ID == v.Thread.FirstPostID }

// MayReact: a published post of a thread that is not archived.
func (v forumPostView) MayReact() bool {
	return v.Post.Visible() && v.Thread.State != store.ThreadArchived
}

// AuthorMayEdit: what the author (not a moderator) may edit: a published
// post of an open thread, written by a person.
func (v forumPostView) AuthorMayEdit() bool {
	return v.Post.Visible() && v.Thread.State == store.ThreadOpen && v.Post.AuthorUserID() != 0
}

// MaySolve: a published reply of a thread that is not archived can be
// marked (by the starter or a moderator).
func (v forumPostView) MaySolve() bool {
	return v.Post.Visible() && !v.IsOpening() && v.Thread.State != store.ThreadArchived && v.Thread.FirstPostID != ""
}

// IfAuthor and IfNotAuthor open a condition on the viewer being the
// post's author; IfStarter on their having started the thread. End
// closes the innermost.
func (v forumPostView) IfAuthor() template.HTML { return condMarkup(userCond(v.Post.AuthorUserID())) }

// IfNotAuthor opens the opposite of IfAuthor.
func (v forumPostView) IfNotAuthor() template.HTML {
	return condMarkup("!" + userCond(v.Post.AuthorUserID()))
}

// IfStarter opens a condition on the viewer having started the thread.
func (v forumPostView) IfStarter() template.HTML { return condMarkup(userCond(v.Thread.StarterID)) }

// End closes a condition.
func (forumPostView) End() template.HTML { return endMarkup }
