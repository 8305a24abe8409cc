package handlers

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// search is GET /search?q=&category=&page=. Members find published posts;
// moderators (owners and admins) hidden ones too, marked; deleted posts
// nobody. Threads of archived categories are found, marked archived: they
// are read-only, not gone. Refused input is a 422 with the form kept.
// htmx (the form, as you type) gets the results block only.
func (h *Handler) search(c *gin.Context) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	q, slug, errs := searchRequest(c)
	q.Moderator = a.Member.IsAdmin()
	d := searchPage{Q: q.Text, Category: slug, Errors: errs, Page: q.Page, Moderator: q.Moderator, Ranked: store.SearchRanked}
	cats, err := h.store.SearchCategories(ctx, t)
	if err != nil {
		return err
	}
	for _, cat := range cats {
		d.Categories = append(d.Categories, searchCategory{Slug: cat.Slug, Name: cat.Name, Archived: cat.Archived()})
		if cat.Slug == slug {
			q.CategoryID = cat.ID
		}
	}
	if slug != "" && q.CategoryID == "" {
		errs["category"] = fmt.Sprintf("There is no category %q in %s: search every category, or choose one from the list.", slug, a.Member.OrgName)
	}
	if len(errs) == 0 && q.Text != "" {
		res, err := h.store.Search(ctx, t, q)
		if err != nil {
			return err
		}
		d.fill(res, q)
	}
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusUnprocessableEntity
	}
	title := "Search"
	if q.Text != "" {
		title = q.Text + " · Search"
	}
	return h.render(c, status, "search", "search_results", h.page(c, title, d))
}
