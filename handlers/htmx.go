package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// isHTMX reports whether htmx sent the request (and wants a fragment).
// Boosted requests and history restores (back to a pushed URL such as a
// marketplace search) want whole pages, so they do not count.
func isHTMX(c *gin.Context) bool {
	return c.GetHeader("HX-Request") == "true" && c.GetHeader("HX-Boosted") != "true" &&
		c.GetHeader("HX-History-Restore-Request") != "true"
}

// render writes a full page, or the fragment block for htmx. One template
// source serves both, so they never drift apart.
func (h *Handler) render(c *gin.Context, status int, page, fragment string, data any) error {
	block := "layout"
	if isHTMX(c) {
		block = fragment
	}
	// Caches must keep the page and the fragment apart.
	c.Header("Vary", "HX-Request")
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(status)
	return h.views.Render(c.Writer, page, block, data)
}

// redirect ends a successful post: 303 See Other for plain forms; for htmx
// an HX-Redirect, so the resulting page loads whole (header included).
func redirect(c *gin.Context, to string) error {
	if isHTMX(c) {
		c.Header("HX-Redirect", to)
		c.Status(http.StatusNoContent)
		return nil
	}
	c.Redirect(http.StatusSeeOther, to)
	return nil
}
