package handlers

import (
	"bytes"
	"strings"

	"github.com/gin-gonic/gin"
)

// resolved renders block of the thread page's set with data, as c's
// viewer sees it: for fragments answered to one person (an htmx reply,
// a moderation's answer, an edit).
func (h *Handler) resolved(c *gin.Context, block string, data any) (string, error) {
	markup, err := h.renderBlock(block, data)
	if err != nil {
		return "", err
	}
	v, err := h.viewerOf(c, reactionPosts(markup))
	if err != nil {
		return "", err
	}
	return stampKeys(resolveFor(markup, v)), nil
}

// writeResolved writes resolved's markup (htmx answers).
func (h *Handler) writeResolved(c *gin.Context, status int, block string, data any) error {
	markup, err := h.resolved(c, block, data)
	if err != nil {
		return err
	}
	c.Header("Vary", "HX-Request")
	c.Data(status, "text/html; charset=utf-8", []byte(markup))
	return nil
}

// stampKeys gives markup rendered with key placeholders fresh keys.
func stampKeys(markup string) string {
	if !strings.Contains(markup, keyPlaceholder) {
		return markup
	}
	var ks keyStamp
	var b []byte
	for {
		i := strings.Index(markup, keyPlaceholder)
		if i < 0 {
			return string(append(b, markup...))
		}
		b = ks.append(append(b, markup[:i]...))
		markup = markup[i+len(keyPlaceholder):]
	}
}

// neutral resolves markup for the live layer, whose events every member
// shares: as a viewer who wrote none of it and chose no reaction.
func neutral(markup []byte) []byte {
	if !bytes.Contains(markup, []byte("<!--fpv:")) {
		return markup
	}
	return []byte(resolveFor(string(markup), viewer{}))
}
