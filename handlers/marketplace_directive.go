package handlers

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// requestPackageDirective records the request as a directive; a worker
// does the work. The form's idempotency_key makes a resent form return
// the directive it already made. A refusal the store is already sure of
// (unpublished, tier, agent limit, not installed) is a 422 with the
// reason; otherwise a plain post gets a 303 back to the page it came from
// and htmx gets the install status fragment, which then follows the
// directive's progress by itself.
func (h *Handler) requestPackageDirective(c *gin.Context, uninstall bool) error {
	ctx := c.Request.Context()
	a := authOf(c)
	t := tenant(c)
	slug := c.PostForm("slug")
	key := c.PostForm("idempotency_key")
	if key == "" {
		// A client without the form (curl, a script) still gets a
		// directive; it just cannot resend it idempotently.
		key = newIdempotencyKey()
	}
	returnTo := localPath(c.PostForm("return_to"), "/marketplace")
	var err error
	if uninstall {
		_, _, err = h.store.RequestUninstall(ctx, t, store.UninstallRequest{Slug: slug, IdempotencyKey: key, UserID: a.Session.UserID, Purge: formBool(c.PostForm("purge"))})
	} else {
		_, _, err = h.store.RequestInstall(ctx, t, store.InstallRequest{Slug: slug, IdempotencyKey: key, UserID: a.Session.UserID})
	}
	var v *store.ValidationError
	if errors.As(err, &v) {
		msg := v.Fields[""]
		if msg == "" {
			msg = v.Error()
		}
		if isHTMX(c) {
			// The package may be unpublished (that can be the refusal),
			// so it is read as it is, not as members may browse it.
			p, perr := h.store.PackageBySlug(ctx, slug)
			if perr != nil {
				return perr
			}
			s, serr := h.installStatus(ctx, t, p, true, returnTo)
			if serr != nil {
				return serr
			}
			s.Error = msg
			return h.renderInstallStatus(c, http.StatusUnprocessableEntity, s)
		}
		return h.renderPackage(c, http.StatusUnprocessableEntity, "content", slug, nil, msg)
	} else if err != nil {
		return err
	}
	if isHTMX(c) {
		s, err := h.InstallStatusFor(ctx, t, slug, true, returnTo)
		if err != nil {
			return err
		}
		return h.renderInstallStatus(c, http.StatusOK, s)
	}
	if uninstall {
		h.flash(c, "info", "Uninstall requested: the package is being removed.")
	} else {
		h.flash(c, "info", "Install requested: the package is being installed.")
	}
	return redirect(c, returnTo)
}
