package handlers

import (
	"context"
	"errors"
	"fmt"

	"github.com/gin-gonic/gin"

	"fleetprompt/jobs/directive"
	"fleetprompt/store"
)

// adminDirectivesData is the directives table.
type adminDirectivesData struct {
	Directives []store.Directive
	Statuses   []string
	Kinds      []string
}

// kindNames lists the directive kinds for the filter, from the engine's
// one table of kinds.
func kindNames(kinds []directive.Kind) []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = k.Name
	}
	return out
}

// adminDirectives is GET /admin/directives?status=&kind=&after=.
func (h *Handler) adminDirectives(c *gin.Context) error {
	v := newAdminView(c, "directives")
	page, err := h.store.ListDirectives(c.Request.Context(), tenant(c), store.DirectiveFilter{
		Status: v.Q("status"), Kind: v.Q("kind"), Before: v.Q("after"), Limit: v.Limit(),
	})
	if err != nil {
		return err
	}
	v.pageLinks("/admin/directives", "after", page.Next)
	v.List = adminDirectivesData{Directives: page.Directives, Statuses: store.DirectiveStatuses, Kinds: kindNames(h.dirs.Kinds())}
	return h.adminRender(c, "admin_directives", "Directives", v)
}

// adminDirectiveRetry is POST /admin/directives/:id/retry: a failed
// directive runs again with fresh attempts.
func (h *Handler) adminDirectiveRetry(c *gin.Context) error {
	return h.adminAct(c, "/admin/directives", h.adminDirectives, func(ctx context.Context) (string, error) {
		d, err := h.store.RetryDirective(ctx, tenant(c), c.Param("id"), authOf(c).Session.UserID)
		if err = h.directiveRefusal(ctx, c, err, "retried", store.DirectiveFailed); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s is requested again.", d.Name), nil
	})
}

// adminDirectiveCancel is POST /admin/directives/:id/cancel: a requested
// directive that has not started is withdrawn.
func (h *Handler) adminDirectiveCancel(c *gin.Context) error {
	return h.adminAct(c, "/admin/directives", h.adminDirectives, func(ctx context.Context) (string, error) {
		d, err := h.store.CancelDirective(ctx, tenant(c), c.Param("id"), authOf(c).Session.UserID)
		if err = h.directiveRefusal(ctx, c, err, "canceled", store.DirectiveRequested); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s is canceled.", d.Name), nil
	})
}

// directiveRefusal turns "not in the right status" (ErrConflict) into a
// message on the page: the directive moved on since the table was drawn.
func (h *Handler) directiveRefusal(ctx context.Context, c *gin.Context, err error, verb, want string) error {
	if !errors.Is(err, store.ErrConflict) {
		return err
	}
	d, derr := h.store.Directive(ctx, tenant(c), c.Param("id"))
	if derr != nil {
		return derr
	}
	return store.Invalid("", fmt.Sprintf("This %s directive is %s: only a %s one can be %s.", d.Name, d.Status, want, verb))
}
