package handlers

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// apiSignals is GET /api/v1/signals?after=<seq>&limit=: the organization's
// signals, oldest first, from after a seq; next is the seq to pass as
// after for the following page (null when this page reached the end: a
// client tailing the log keeps the last seq it saw). A member's private
// chat never appears.
func (h *Handler) apiSignals(c *gin.Context) error {
	after, err := store.ParseIDCursor("after", c.Query("after"))
	if err != nil {
		return err
	}
	limit, err := apiLimit(c, 100, 1000)
	if err != nil {
		return err
	}
	sigs, more, err := h.store.APISignals(c.Request.Context(), apiCaller(c).Tenant(), after, limit)
	if err != nil {
		return err
	}
	out := make([]apiSignal, len(sigs))
	for i, s := range sigs {
		out[i] = toAPISignal(s)
	}
	next := ""
	if more {
		next = strconv.FormatInt(sigs[len(sigs)-1].Seq, 10)
	}
	c.JSON(http.StatusOK, newList(out, next))
	return nil
}

// apiDirective is GET /api/v1/directives/:id: a directive and how it went
// (poll it after an install).
func (h *Handler) apiDirective(c *gin.Context) error {
	d, err := h.store.Directive(c.Request.Context(), apiCaller(c).Tenant(), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toAPIDirective(d))
	return nil
}
