package handlers

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// sessionRow is one of the user's sessions on the sessions page.
type sessionRow struct {
	Client     string // "Firefox on Linux"
	UserAgent  string // the whole User-Agent, for the row's title
	OrgName    string
	CreatedAt  time.Time
	LastSeenAt time.Time
	Current    bool
}

// sessionsPage is the sessions page: the list, this one first, and how
// many others "sign out everywhere else" would end.
type sessionsPage struct {
	Sessions []sessionRow
	Others   int
}

// settingsSessions is GET /settings/sessions: where this account is
// signed in.
func (h *Handler) settingsSessions(c *gin.Context) error {
	a := authOf(c)
	list, err := h.store.UserSessions(c.Request.Context(), a.Session.UserID, a.Token)
	if err != nil {
		return err
	}
	rows := make([]sessionRow, len(list))
	others := 0
	for i, s := range list {
		rows[i] = sessionRow{Client: clientSummary(s.UserAgent), UserAgent: s.UserAgent, OrgName: s.OrgName,
			CreatedAt: s.CreatedAt, LastSeenAt: s.LastSeenAt, Current: s.Current}
		if !s.Current {
			others++
		}
	}
	return h.render(c, http.StatusOK, "settings_sessions", "content", h.page(c, "Sessions", sessionsPage{Sessions: rows, Others: others}))
}
