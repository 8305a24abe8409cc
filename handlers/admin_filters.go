package handlers

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"fleetprompt/store"
	"fleetprompt/views"
)

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

// checkFilters drops the query parameters the section does not know and
// the values it does not have, and returns what it dropped, in words.
func (v *adminView) checkFilters() []string {
	f, ok := adminFilters[v.Section]
	if !ok {
		return nil
	}
	var problems []string
	keys := make([]string, 0, len(v.Query))
	for k := range v.Query {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		val := strings.TrimSpace(v.Query.Get(k))
		switch {
		case slices.Contains(alwaysAllowed, k):
		case !slices.Contains(f.params, k):
			problems = append(problems, unknownFilter(k, f.params))
			v.Query.Del(k)
		case val != "" && f.values[k] != nil && !slices.Contains(f.values[k], val):
			problems = append(problems, fmt.Sprintf("%q is not a %s here (one of %s).", val, strings.ReplaceAll(k, "_", " "), strings.Join(f.values[k], ", ")))
			v.Query.Del(k)
		}
	}
	return problems
}

func unknownFilter(k string, known []string) string {
	if len(known) == 0 {
		return fmt.Sprintf("This page takes no filter %q.", k)
	}
	return fmt.Sprintf("This list has no filter %q (it filters by %s).", k, strings.Join(known, ", "))
}

// refuseFilters turns dropped filters into the page's notice and 422.
func (v *adminView) refuseFilters(problems []string, status *int) {
	if len(problems) == 0 {
		return
	}
	if *status == http.StatusOK {
		*status = http.StatusUnprocessableEntity
	}
	if v.Notice == nil {
		v.Notice = &views.Flash{Kind: "error", Message: strings.Join(problems, " ") + " It was left out."}
	}
}
