package handlers

import "github.com/gin-gonic/gin"

// forumCategoryArchive and forumCategoryRestore are direct writes with
// their signal (SPEC §8 lists them as plain owner/admin routes; only
// thread and post moderation go through directives).
func (h *Handler) forumCategoryArchive(c *gin.Context) error {
	cat, changed, err := h.store.ArchiveForumCategory(c.Request.Context(), tenant(c), authOf(c).Session.UserID, c.Param("slug"))
	if err != nil {
		return err
	}
	if changed {
		h.threadsChanged(c) // its threads are archived with it
		h.flash(c, "info", cat.Name+" is archived: it takes no new threads, and its threads take no replies.")
	}
	return redirect(c, localPath(c.PostForm("redirect_to"), "/forums/c/"+cat.Slug))
}

func (h *Handler) forumCategoryRestore(c *gin.Context) error {
	cat, changed, err := h.store.RestoreForumCategory(c.Request.Context(), tenant(c), authOf(c).Session.UserID, c.Param("slug"))
	if err != nil {
		return err
	}
	if changed {
		h.threadsChanged(c)
		h.flash(c, "info", cat.Name+" is active again.")
	}
	return redirect(c, localPath(c.PostForm("redirect_to"), "/forums/c/"+cat.Slug))
}
