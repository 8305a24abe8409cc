package handlers

import (
	"html/template"

	"fleetprompt/store"
)

// Reactions are the post's reaction buttons, in the kinds' order.
func (v forumPostView) Reactions() []reactionView {
	out := make([]reactionView, len(store.ReactionKinds))
	for i, k := range store.ReactionKinds {
		out[i] = reactionView{ReactionKind: k, PostID: v.Post.ID, Count: v.Post.Reactions[k.Name]}
	}
	return out
}

// reactionView is one reaction button of a post.
type reactionView struct {
	store.ReactionKind
	PostID string
	Count  int
}

// CountID is the element id of the count, which live events replace.
func (r reactionView) CountID() string { return "rc-" + r.PostID + "-" + r.Name }

// Chosen opens the condition "the viewer chose this" (NotChosen its
// opposite): only a kind somebody chose can be the viewer's.
func (r reactionView) Chosen() template.HTML { return condMarkup("r" + r.PostID + "." + r.Name) }

// NotChosen opens the opposite of Chosen.
func (r reactionView) NotChosen() template.HTML { return condMarkup("!r" + r.PostID + "." + r.Name) }

// End closes a condition.
func (reactionView) End() template.HTML { return endMarkup }
