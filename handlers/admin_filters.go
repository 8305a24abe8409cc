package handlers

import "fleetprompt/store"

// adminFilter is what one admin list reads from its URL: the parameters it
// knows, and for those with a fixed set of values, the values.
type adminFilter struct {
	params []string
	values map[string][]string
}

// adminFilters lists every admin section's query parameters. A parameter
// a list does not read (?from= where it filters by since) or a value it
// does not know (?status=bogus) was silently ignored, showing the whole
// list as if filtered; now the list says so in a notice, with 422, and
// shows what it can (the unknown filter left out).
var adminFilters = map[string]adminFilter{
	"overview": {},
	"agents":   {params: []string{"state", "after"}, values: map[string][]string{"state": store.AgentStates}},
	"api-keys": {},
	"directives": {params: []string{"status", "kind", "after"},
		values: map[string][]string{"status": store.DirectiveStatuses}},
	"forums": {params: []string{"category_id", "thread_status", "after", "post_status", "thread_id", "posts_after"},
		values: map[string][]string{
			"thread_status": {store.ThreadOpen, store.ThreadLocked, store.ThreadArchived},
			"post_status":   {store.PostPublished, store.PostHidden, store.PostDeleted},
		}},
	// The flag queue sits under Forums in the menu but reads its own URL.
	"flags":         {params: []string{"status", "page"}, values: map[string][]string{"status": {"open", "reviewed"}}},
	"installations": {params: []string{"status", "after"}, values: map[string][]string{"status": store.InstallationStatuses}},
	"jobs": {params: []string{"state", "kind", "after", "failures_after"},
		values: map[string][]string{"state": jobStates}},
	"members": {params: []string{"q", "role", "status", "after"},
		values: map[string][]string{"role": store.MemberRoles, "status": {store.StatusActive, store.StatusDisabled, store.StatusInvited}}},
	"signals":  {params: []string{"name", "subject_type", "subject_id", "since", "until", "after"}},
	"skills":   {},
	"tenant":   {},
	"usage":    {},
	"webhooks": {params: []string{"before"}},
}

// alwaysAllowed are read by every list (page size) or by the page itself.
var alwaysAllowed = []string{"limit", "fp_debug"}
