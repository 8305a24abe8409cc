package handlers

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"fleetprompt/jobs/forumagent"
	"fleetprompt/store"
)

// forumAsk is POST /forums/t/:id/ask (agent_id, question).
func (h *Handler) forumAsk(c *gin.Context) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	th, err := h.store.ForumThread(ctx, t, c.Param("id"))
	if err != nil {
		return err
	}
	f := formOf(c, "agent_id", "question")
	question := strings.TrimSpace(f.Values["question"])
	ag, err := h.store.AgentByID(ctx, t, f.Values["agent_id"])
	switch {
	case err != nil:
		f.Errors["agent_id"] = "choose one of the organization's active agents"
	case !ag.Active():
		f.Errors["agent_id"] = validationText(ag.NotRunning().(*store.ValidationError))
	}
	if question == "" {
		f.Errors["question"] = "Write what the agent should answer."
	}
	if f.Invalid() {
		return h.renderAsk(c, http.StatusUnprocessableEntity, f)
	}
	_, _, err = h.store.RequestDirective(ctx, t, store.DirectiveRequest{Kind: forumagent.DirectiveReply,
		Payload:        forumagent.ReplyArgs{ThreadID: th.ID, AgentID: ag.ID, Question: question},
		IdempotencyKey: c.PostForm("idempotency_key"), UserID: a.Session.UserID,
		Subject: store.Subject{Type: store.SubjectForumThread, ID: th.ID}})
	if v := (*store.ValidationError)(nil); asValidation(err, &v) {
		f.Errors[""] = validationText(v)
		return h.renderAsk(c, http.StatusUnprocessableEntity, f)
	} else if err != nil {
		return err
	}
	h.flash(c, "info", ag.Name+" is answering: the answer appears in the thread as it is written.")
	return redirect(c, "/forums/t/"+th.ID+"#posts")
}
