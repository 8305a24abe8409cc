package handlers

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// Posting is rate-limited per person (SPEC §16): a thread or a reply past
// the limit is refused with 429, Retry-After and the form again with the
// text kept, saying how long to wait. A form sent again after it was
// accepted (its idempotency key already made the post) is not a new post
// and is never refused for the limit.

// postingWait is how long the signed-in person must wait to post.
func (h *Handler) postingWait(c *gin.Context) (time.Duration, error) {
	return h.store.PostingWait(c.Request.Context(), tenant(c), authOf(c).Session.UserID, h.postLimit)
}

// tooFastMessage says so, in words.
func (h *Handler) tooFastMessage(wait time.Duration) string {
	return fmt.Sprintf("You are posting faster than this forum allows (%s). Wait %s, then send it again: your text is kept below.",
		h.postLimit, waitText(retrySeconds(wait)))
}

// tooFast sets the 429's Retry-After.
func tooFast(c *gin.Context, wait time.Duration) int {
	c.Header("Retry-After", strconv.Itoa(retrySeconds(wait)))
	return http.StatusTooManyRequests
}

func retrySeconds(d time.Duration) int { return max(int(math.Ceil(d.Seconds())), 1) }

// postLimitOf is Config.ForumPostLimit with its default.
func postLimitOf(l store.PostLimit) store.PostLimit {
	switch {
	case l.Posts == 0 && l.Per == 0:
		return store.DefaultPostLimit
	case l.Posts < 0:
		return store.PostLimit{} // off
	}
	return l
}
