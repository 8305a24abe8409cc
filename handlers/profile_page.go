package handlers

import "time"

// profilePage is GET /u/:handle: a person as the current organization
// knows them.
type profilePage struct {
	Name, Handle, Role, Status string
	Since                      time.Time // joined this organization
	IsSelf                     bool
	Posts                      []profilePost
	Total                      int
	Next                       string // the URL of the next page of posts, "" on the last
}

// profilePost is one line of the posts list.
type profilePost struct {
	URL, ThreadTitle, Excerpt string
	Hidden                    bool // shown to moderators only, marked
	CreatedAt                 time.Time
}
