package handlers

import (
	"context"
	"fmt"
	"strconv"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// adminInvitationRevoke is POST /admin/invitations/:id/revoke. Another
// organization's invitation is 404.
func (h *Handler) adminInvitationRevoke(c *gin.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return store.ErrNotFound
	}
	return h.adminAct(c, "/admin/members", h.adminMembers, func(ctx context.Context) (string, error) {
		inv, err := h.store.RevokeInvitation(ctx, tenant(c), authOf(c).Session.UserID, id)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("The invitation of %s is revoked: its link no longer works.", inv.Email), nil
	})
}
