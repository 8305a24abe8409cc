package handlers

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

	"fleetprompt/store"
)

// The forums through the API: the same store functions, rules and signals
// as the pages' forms (a thread and its first post together; no replies
// to a locked or archived thread), written as the key's maker.

// apiThreads is GET /api/v1/forums/threads?category=<slug>&after=&limit=:
// threads, newest first.
func (h *Handler) apiThreads(c *gin.Context) error {
	limit, err := apiLimit(c, 50, 200)
	if err != nil {
		return err
	}
	ths, next, err := h.store.APIThreads(c.Request.Context(), apiCaller(c).Tenant(), c.Query("category"), c.Query("after"), limit)
	if err != nil {
		return err
	}
	out := make([]apiThread, len(ths))
	for i, t := range ths {
		out[i] = toAPIThread(t)
	}
	c.JSON(http.StatusOK, newList(out, next))
	return nil
}

// apiThreadCreated answers a new thread: it and its first post.
type apiThreadCreated struct {
	apiThread
	Post apiPost `json:"post"`
}

// apiThreadCreate is POST /api/v1/forums/threads {"category_id", "title",
// "body"}: 201 with the thread and its first post.
func (h *Handler) apiThreadCreate(c *gin.Context) error {
	return h.apiWrite(c, func(ctx context.Context, tx *sqlx.Tx, raw []byte, _ store.APIOnce) (int, any, error) {
		var in struct {
			CategoryID string `json:"category_id"`
			Title      string `json:"title"`
			Body       string `json:"body"`
		}
		if err := decodeJSON(raw, &in); err != nil {
			return 0, nil, err
		}
		n := store.NewForumThread{CategoryID: in.CategoryID, Title: strings.TrimSpace(in.Title), Body: in.Body}
		if err := n.Validate(); err != nil {
			return 0, nil, err
		}
		caller := apiCaller(c)
		th, post, err := h.store.CreateForumThreadTx(ctx, tx, caller.Tenant(), caller.UserID, n)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, apiThreadCreated{toAPIThread(th), toAPIPost(post)}, nil
	})
}
