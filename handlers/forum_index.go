package handlers

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// forumIndexData is the /forums page: categories (archived ones marked)
// and one page of the latest threads.
type forumIndexData struct {
	Categories []store.ForumCategory
	Threads    []threadRowView
	Pager      store.Pager
	Admin      bool
}

func (h *Handler) forumIndex(c *gin.Context) error {
	ctx, t := c.Request.Context(), tenant(c)
	cats, err := h.store.ForumCategories(ctx, t)
	if err != nil {
		return err
	}
	ths, pager, err := h.store.LatestThreads(ctx, t, pageParam(c))
	if err != nil {
		return err
	}
	d := forumIndexData{Categories: cats, Pager: pager, Admin: authOf(c).Member.IsAdmin()}
	for _, th := range ths {
		d.Threads = append(d.Threads, threadRowView{Thread: th, ShowCategory: true})
	}
	return h.render(c, http.StatusOK, "forum_index", "content", h.page(c, "Forums", d))
}

// forumCategoryData is a category page: its threads, and the seq the page
// was rendered at so its live stream resumes from there.
type forumCategoryData struct {
	Category store.ForumCategory
	Threads  []threadRowView
	Pager    store.Pager
	Admin    bool
	Seq      int64
}

func (h *Handler) forumCategory(c *gin.Context) error {
	ctx, t := c.Request.Context(), tenant(c)
	// The seq first: an event racing this render is then sent again at
	// worst (and skipped by element id), never lost.
	seq, err := h.store.LatestSignalSeq(ctx, t)
	if err != nil {
		return err
	}
	cat, err := h.store.ForumCategoryBySlug(ctx, t, c.Param("slug"))
	if err != nil {
		return err
	}
	ths, pager, err := h.store.CategoryThreads(ctx, t, cat.ID, pageParam(c))
	if err != nil {
		return err
	}
	d := forumCategoryData{Category: cat, Pager: pager, Admin: authOf(c).Member.IsAdmin(), Seq: seq}
	for _, th := range ths {
		d.Threads = append(d.Threads, threadRowView{Thread: th})
	}
	return h.render(c, http.StatusOK, "forum_category", "content", h.page(c, cat.Name, d))
}

// pageParam reads ?page=N; anything else is the first page.
func pageParam(c *gin.Context) int {
	n, err := strconv.Atoi(c.Query("page"))
	if err != nil || n < 1 {
		return 1
	}
	return n
}
