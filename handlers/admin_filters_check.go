package handlers

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"fleetprompt/views"
)

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
