package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

var errNotFound = store.ErrNotFound

// errTooMany is returned when a client must slow down.
var errTooMany = errors.New("too many attempts")

// errBadQuery is a query string the app cannot even read.
var errBadQuery = errors.New("malformed query string")

// wrap adapts a handler that returns an error. It is the one place where
// error kinds become status codes; 5xx are logged with the request, and
// the user sees a plain message, never err.Error().
func (h *Handler) wrap(fn func(c *gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := fn(c); err != nil {
			h.fail(c, err)
		}
	}
}

type errorPage struct {
	Status           int
	Heading, Message string
}

// retryAfterOutage is the Retry-After, in seconds, of a 503 for a
// database outage: long enough for a restart, short enough to notice the
// recovery soon.
const retryAfterOutage = 5

func (h *Handler) fail(c *gin.Context, err error) {
	if isAPI(c) {
		h.apiFail(c, err) // the same table, as problem+json
		return
	}
	var v *store.ValidationError
	var tooBig *http.MaxBytesError
	page := errorPage{Status: http.StatusInternalServerError, Heading: "Something went wrong",
		Message: "The error was logged. Nothing you saved was lost; please try again."}
	switch {
	case errors.Is(err, store.ErrNotFound):
		page = errorPage{http.StatusNotFound, "Not found", "There is nothing here, or it belongs to another organization."}
	case errors.Is(err, store.ErrForbidden):
		page = errorPage{http.StatusForbidden, "Not allowed", "Your role in this organization does not allow this. Owners and admins can."}
	case errors.Is(err, store.ErrConflict):
		page = errorPage{http.StatusConflict, "That changed meanwhile", "Reload the page and try again."}
	case errors.Is(err, errBadQuery):
		page = errorPage{http.StatusBadRequest, "Bad request", "The address contains characters that cannot be used (a NUL byte or invalid UTF-8)."}
	case errors.Is(err, errTooMany):
		page = errorPage{http.StatusTooManyRequests, "Too many attempts", "Wait a few minutes, then try again."}
	case errors.As(err, &v):
		page = errorPage{http.StatusUnprocessableEntity, "Invalid input", v.Error()}
	case errors.As(err, &tooBig):
		page = errorPage{http.StatusRequestEntityTooLarge, "Too large",
			fmt.Sprintf("What you sent is larger than this form takes (%s at most). Shorten it and try again.", sizeText(tooBig.Limit))}
	case errors.Is(err, context.Canceled):
		c.Abort() // the client went away; nothing to answer
		return
	case store.Unavailable(err):
		// The database is restarting or unreachable: say so, and when to
		// try again, instead of a 500; nothing is broken in the request.
		h.log.Warn("database unavailable", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
		c.Header("Retry-After", strconv.Itoa(retryAfterOutage))
		page = errorPage{http.StatusServiceUnavailable, "Back in a moment",
			"The database is not answering right now. Nothing you saved was lost; try again in a few seconds."}
	default:
		h.log.Error("request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
	}
	if c.Writer.Written() {
		return
	}
	c.Abort()
	h.render(c, page.Status, "error", "content", h.page(c, page.Heading, page))
}

func viewMembership(m store.Membership) views.Membership {
	return views.Membership{OrgID: m.OrgID, OrgName: m.OrgName, OrgSlug: m.OrgSlug, OrgTier: m.OrgTier, Role: m.Role}
}

// sizeText is a byte count in words: "1 MiB", "512 KiB".
func sizeText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", (n+1023)>>10)
}

// page builds the data every template gets.
func (h *Handler) page(c *gin.Context, title string, data any) *views.Page {
	p := &views.Page{Title: title, Path: c.Request.URL.Path, Data: data}
	if a := authOf(c); a != nil {
		p.User = &views.User{ID: a.Session.UserID, Name: a.Session.Name, Email: a.Session.Email, Handle: a.Session.Handle}
		for _, m := range a.Session.Memberships {
			p.Orgs = append(p.Orgs, viewMembership(m))
		}
		if a.HasOrg {
			m := viewMembership(a.Member)
			p.Org = &m
			p.Inbox = h.inbox(c)
		}
		p.Flashes = h.takeFlashes(c)
	}
	return p
}
