package handlers

import "github.com/gin-gonic/gin"

// writeThread writes tc with fresh keys: alone for htmx, else inside the
// layout of this request's page (layoutAround). The page is assembled in
// one buffer and leaves in one write.
func (h *Handler) writeThread(c *gin.Context, status int, tc *threadContent) error {
	var head, tail string
	if !isHTMX(c) {
		var err error
		if head, tail, err = h.layoutAround(c, tc); err != nil {
			return err
		}
	}
	v, err := h.viewerOf(c, tc.reactionPosts)
	if err != nil {
		return err
	}
	buf := h.pageBuffer()
	b := append((*buf)[:0], head...)
	b = tc.appendTo(b, v)
	b = append(b, tail...)
	*buf = b
	c.Header("Vary", "HX-Request")
	c.Data(status, "text/html; charset=utf-8", b)
	h.putPageBuffer(buf) // c.Data has written it
	return nil
}

func (h *Handler) pageBuffer() *[]byte {
	if h.threads != nil {
		return h.threads.bufs.Get().(*[]byte)
	}
	return new([]byte)
}

func (h *Handler) putPageBuffer(b *[]byte) {
	if h.threads != nil && cap(*b) <= 1<<20 {
		h.threads.bufs.Put(b)
	}
}
