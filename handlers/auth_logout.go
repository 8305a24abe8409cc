package handlers

import "github.com/gin-gonic/gin"

func (h *Handler) logout(c *gin.Context) error {
	if err := h.signOut(c); err != nil {
		return err
	}
	return redirect(c, "/")
}
