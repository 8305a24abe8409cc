package handlers

import (
	"strings"

	"github.com/gin-gonic/gin"
)

// threadChanged drops the cached pages of thread after a write in this
// process, so the writer's next page shows it (other processes hear of it
// through the live hub).
func (h *Handler) threadChanged(c *gin.Context, threadID string) {
	if h.threads != nil {
		h.threads.cache.DropThread(tenant(c).Schema(), strings.ToLower(threadID))
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
