package handlers

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"fleetprompt/views"
)

// adminRender writes an admin page, or for htmx its #admin-page block.
// An action re-rendering the list passes its status and form through the
// context.
func (h *Handler) adminRender(c *gin.Context, page, title string, v *adminView) error {
	status := http.StatusOK
	if s, ok := c.Get(adminStatusKey); ok {
		status = s.(int)
	}
	v.refuseFilters(v.filterProblems, &status)
	p := h.page(c, title, v)
	if f, ok := c.Get(adminFormKey); ok {
		p.Form = f.(*views.Form)
	} else {
		p.Form = views.NewForm()
	}
	return h.render(c, status, page, "admin_page", p)
}

// adminRelist renders the list at back in answer to an action.
func (h *Handler) adminRelist(c *gin.Context, back string, status int, notice *views.Flash, list func(*gin.Context) error) error {
	u, err := url.Parse(back)
	if err != nil {
		return err
	}
	c.Request.URL.Path, c.Request.URL.RawPath, c.Request.URL.RawQuery = u.Path, "", u.RawQuery
	c.Set(adminStatusKey, status)
	c.Set(adminNoticeKey, notice)
	return list(c)
}
