package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// uninstallConfirmData is the page that asks before a purge.
type uninstallConfirmData struct {
	Package                  store.Package
	IdempotencyKey, ReturnTo string
}

// uninstallConfirm asks before an uninstall that also deletes the
// package's agents: with JavaScript the form's data-confirm asked already
// (and app.js sent confirmed=1); without it, this page is the question,
// its button the same form with confirmed=1 and the same idempotency key.
func (h *Handler) uninstallConfirm(c *gin.Context) error {
	p, err := h.store.PackageBySlug(c.Request.Context(), c.PostForm("slug"))
	if err != nil {
		return err
	}
	d := uninstallConfirmData{Package: p, IdempotencyKey: c.PostForm("idempotency_key"),
		ReturnTo: localPath(c.PostForm("return_to"), "/marketplace/"+p.Slug)}
	return h.render(c, http.StatusOK, "marketplace_uninstall", "content", h.page(c, "Uninstall "+p.Name, d))
}
