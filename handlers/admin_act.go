package handlers

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// adminReturn is where an action goes back to: the form's return_to when
// it is a view of the same section (base), else the section itself.
func adminReturn(c *gin.Context, base string) string {
	rt := localPath(c.PostForm("return_to"), base)
	if rt == base || strings.HasPrefix(rt, base+"?") {
		return rt
	}
	return base
}

// adminAct runs an admin action. Success: 303 back to the filtered view
// with a flash, or for htmx that view re-rendered with the message. A
// refusal the user can act on (a *ValidationError) re-renders the view
// with the message and 422, with or without JavaScript. Other errors go
// to the error page (404 for foreign ids, 403, 500).
func (h *Handler) adminAct(c *gin.Context, base string, list func(*gin.Context) error, act func(ctx context.Context) (string, error)) error {
	back := adminReturn(c, base)
	msg, err := act(c.Request.Context())
	var v *store.ValidationError
	switch {
	case errors.As(err, &v):
		return h.adminRelist(c, back, http.StatusUnprocessableEntity, &views.Flash{Kind: "error", Message: validationMessage(v)}, list)
	case err != nil:
		return err
	case !isHTMX(c):
		h.flash(c, "info", msg)
		return redirect(c, back)
	}
	return h.adminRelist(c, back, http.StatusOK, &views.Flash{Kind: "info", Message: msg}, list)
}

// validationMessage joins a ValidationError's messages for a notice.
func validationMessage(v *store.ValidationError) string {
	keys := make([]string, 0, len(v.Fields))
	for k := range v.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	msgs := make([]string, len(keys))
	for i, k := range keys {
		msgs[i] = v.Fields[k]
	}
	return strings.Join(msgs, "; ")
}
