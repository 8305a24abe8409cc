package handlers

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// adminSignalsData is the signals table.
type adminSignalsData struct {
	Signals []store.Signal
}

// timeLayouts are what the filter accepts: a datetime-local input's value,
// or a date. Times are UTC, as the table shows them.
var timeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02", time.RFC3339}

func parseFilterTime(v *store.ValidationError, field, s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t
		}
	}
	v.Add(field, fmt.Sprintf("%q is not a time (use 2006-01-02 or 2006-01-02T15:04, UTC)", s))
	return time.Time{}
}

// adminSignals is GET /admin/signals?name=&subject_type=&subject_id=&since=&until=&after=.
// name is exact, or a prefix ending in ".*" ("forum.*").
func (h *Handler) adminSignals(c *gin.Context) error {
	v := newAdminView(c, "signals")
	bad := &store.ValidationError{}
	f := store.SignalFilter{
		Name:        strings.TrimSpace(v.Q("name")),
		SubjectType: strings.TrimSpace(v.Q("subject_type")),
		SubjectID:   strings.TrimSpace(v.Q("subject_id")),
		Since:       parseFilterTime(bad, "since", v.Q("since")),
		Until:       parseFilterTime(bad, "until", v.Q("until")),
		Limit:       v.Limit(),
	}
	var err error
	if f.Before, err = store.ParseIDCursor("after", v.Q("after")); err != nil {
		return err
	}
	if err := bad.OrNil(); err != nil {
		return err
	}
	page, err := h.store.ListSignals(c.Request.Context(), tenant(c), f)
	if err != nil {
		return err
	}
	next := ""
	if page.Next > 0 {
		next = strconv.FormatInt(page.Next, 10)
	}
	v.pageLinks("/admin/signals", "after", next)
	v.List = adminSignalsData{Signals: page.Signals}
	return h.adminRender(c, "admin_signals", "Signals", v)
}
