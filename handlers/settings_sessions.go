package handlers

import (
	"context"
	"net/http"
	"strings"
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

// settingsSessionsRevoke is POST /settings/sessions/revoke-others: every
// session of the user but this one ends, at once, in every process.
func (h *Handler) settingsSessionsRevoke(c *gin.Context) error {
	ctx, a := c.Request.Context(), authOf(c)
	ended, err := h.store.DeleteOtherSessions(ctx, a.Session.UserID, a.Token)
	if err != nil {
		return err
	}
	h.endSessions(ctx, ended)
	h.flash(c, "info", signedOutText(len(ended)))
	return redirect(c, "/settings/sessions")
}

// endSessions finishes what deleting sessions' rows began (their cookies
// already load nothing from the database): each is dropped from this
// process's session cache now, and announced on the live hub's control
// channel as a sign-out — "session:<hash>", the message sign-out's
// EndSession sends — on which every process's hub ends the session's
// streams and every session cache drops its entry (session_cache.go).
func (h *Handler) endSessions(ctx context.Context, hashes []string) {
	for _, key := range hashes {
		if h.sessions != nil {
			h.sessions.dropKey(key)
		}
		if h.live != nil {
			if err := h.live.Announce(ctx, "session:"+key); err != nil {
				h.log.Warn("announce ended session", "err", err)
			}
		}
	}
}

// clientSummary names a User-Agent the way people know it: "Firefox on
// Linux", "Safari on iOS". Order matters: Edge and Opera say Chrome too,
// and Chrome says Safari.
func clientSummary(ua string) string {
	if strings.TrimSpace(ua) == "" {
		return "Unknown client"
	}
	browser := firstMatch(ua, [][2]string{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"HeadlessChrome/", "Headless Chrome"},
		{"Chromium/", "Chromium"}, {"Chrome/", "Chrome"}, {"CriOS/", "Chrome"}, {"Safari/", "Safari"},
		{"curl/", "curl"}, {"Go-http-client/", "Go HTTP client"},
	})
	os := firstMatch(ua, [][2]string{
		{"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Android", "Android"}, {"CrOS", "ChromeOS"},
		{"Windows", "Windows"}, {"Mac OS X", "macOS"}, {"Macintosh", "macOS"}, {"Linux", "Linux"},
	})
	switch {
	case browser == "" && os == "":
		return "Other client"
	case browser == "":
		return "A browser on " + os
	case os == "":
		return browser
	}
	return browser + " on " + os
}

// firstMatch returns the name of the first pair whose marker ua contains.
func firstMatch(ua string, pairs [][2]string) string {
	for _, p := range pairs {
		if strings.Contains(ua, p[0]) {
			return p[1]
		}
	}
	return ""
}
