package handlers

import (
	"strings"

	"github.com/gin-gonic/gin"
)

// threadChanged drops the cached pages of thread after a write in this
// process, so the writer's next page shows it, and a view that begins
// after it too (other processes hear of it through the live hub).
func (h *Handler) threadChanged(c *gin.Context, threadID string) {
	h.threadChangedAt(c, threadID, 0)
}

// threadChangedAt is threadChanged for a write whose signal has seq (0:
// not known): only pages read before that seq are dropped, so the other
// replies of one batch, each dropping the thread as it is answered, leave
// a page read after the batch alone.
func (h *Handler) threadChangedAt(c *gin.Context, threadID string, seq int64) {
	if h.threads != nil {
		var writer int64
		if a := authOf(c); a != nil {
			writer = a.Session.UserID
		}
		h.threads.cache.DropThread(tenant(c).Schema(), strings.ToLower(threadID), writer, seq)
	}
}

// threadsChanged drops every cached thread page of the tenant (a change
// all of them show, e.g. a category archived).
func (h *Handler) threadsChanged(c *gin.Context) {
	if h.threads != nil {
		h.threads.cache.DropTenant(tenant(c).Schema())
	}
}

// signal and dropAll are the live hub's Observer hooks (nil-safe).
func (tp *threadPages) signal(schema string, seq int64) {
	if tp != nil {
		tp.cache.Signal(schema, seq)
	}
}

func (tp *threadPages) dropAll() {
	if tp != nil {
		tp.cache.DropAll()
	}
}
