package handlers

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// compress gzips text answers (pages, fragments, CSS, JS, SVG, JSON) for
// clients that accept it: a thread page of ~110 KB goes out as ~15 KB.
// Event streams are never compressed (a gzip stream holds events back
// until its buffer fills, and the live hub takes the connection over), nor
// are bodies that already have an encoding. Vary tells caches that the
// body depends on Accept-Encoding. It runs outside recoverPanics, so a
// panic's 500 page is compressed and the gzip stream is closed after it.
func compress(c *gin.Context) {
	r := c.Request
	if r.Method == http.MethodHead || !acceptsGzip(r.Header.Get("Accept-Encoding")) ||
		strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		c.Next()
		return
	}
	w := &gzipWriter{ResponseWriter: c.Writer}
	c.Writer = w
	defer w.close()
	c.Next()
}

// acceptsGzip reads Accept-Encoding: gzip listed without q=0.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") || strings.TrimSpace(name) == "*" {
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// compressible lists the content types worth compressing; images other
// than SVG and archives are compressed already.
func compressible(contentType string) bool {
	ct, _, _ := strings.Cut(contentType, ";")
	ct = strings.TrimSpace(strings.ToLower(ct))
	switch {
	case ct == "text/event-stream":
		return false
	case strings.HasPrefix(ct, "text/"), ct == "image/svg+xml", ct == "application/javascript",
		ct == "application/json", strings.HasSuffix(ct, "+json"), ct == "application/xml":
		return true
	}
	return false
}
