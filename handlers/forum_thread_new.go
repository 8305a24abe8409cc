package handlers

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// forumThreadNew shows the new-thread form; ?category_id= preselects a
// category. Without any active category the page says so instead and
// links to creating one. The form carries a fresh idempotency key: sent
// twice, it makes one thread.
func (h *Handler) forumThreadNew(c *gin.Context) error {
	f := views.NewForm()
	if id := c.Query("category_id"); id != "" {
		f.Values["category_id"] = id
	}
	f.Values["idempotency_key"] = newIdempotencyKey()
	return h.renderThreadForm(c, http.StatusOK, "content", f)
}

func (h *Handler) forumThreadCreate(c *gin.Context) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	n := store.NewForumThread{CategoryID: c.PostForm("category_id"), Title: c.PostForm("title"), Body: c.PostForm("body"),
		IdempotencyKey: c.PostForm("idempotency_key")}
	f := views.NewForm()
	f.Values = map[string]string{"category_id": n.CategoryID, "title": n.Title, "body": n.Body, "idempotency_key": n.IdempotencyKey}
	wait, err := h.postingWait(c)
	if err != nil {
		return err
	}
	if wait > 0 {
		// A form already accepted is answered with its thread.
		th, err := h.store.ThreadByKey(ctx, t, a.Session.UserID, n.IdempotencyKey)
		if err == nil {
			return redirect(c, "/forums/t/"+th.ID)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		f.Errors[""] = h.tooFastMessage(wait)
		return h.renderThreadForm(c, tooFast(c, wait), "thread_form", f)
	}
	th, _, err := h.store.CreateForumThread(ctx, t, a.Session.UserID, n)
	if v := (*store.ValidationError)(nil); asValidation(err, &v) {
		f.Errors = v.Fields
		return h.renderThreadForm(c, http.StatusUnprocessableEntity, "thread_form", f)
	} else if err != nil {
		return err
	}
	return redirect(c, "/forums/t/"+th.ID)
}

func (h *Handler) renderThreadForm(c *gin.Context, status int, fragment string, f *views.Form) error {
	all, err := h.store.ForumCategories(c.Request.Context(), tenant(c))
	if err != nil {
		return err
	}
	d := forumFormData{Admin: authOf(c).Member.IsAdmin()}
	for _, cat := range all {
		if cat.Archived() {
			d.Archived++
			continue
		}
		d.Categories = append(d.Categories, cat)
	}
	p := h.page(c, "New thread", &d)
	p.Form = f
	p.Debug = c.Query("fp_debug") == "1"
	if p.Debug {
		d.DebugInfo = &forumDebug{TenantSchema: tenant(c).Schema(), Values: f.Values, Errors: f.Errors,
			CanSubmit: len(d.Categories) > 0 && !f.Invalid()}
	}
	return h.render(c, status, "forum_thread_new", fragment, p)
}
