package handlers

import (
	"compress/gzip"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"
)

// gzipWriters are reused: a writer's tables are ~800 KB to allocate.
// BestSpeed: on HTML it compresses nearly as well as the default (a
// thread page ~7:1 instead of ~8:1) for a third of the CPU, and pages are
// made per request.
var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

// gzipWriter decides at the first byte of the body, when the handler's
// Content-Type is known, whether to compress.
type gzipWriter struct {
	gin.ResponseWriter
	decided bool
	gz      *gzip.Writer
}

func (w *gzipWriter) decide() {
	if w.decided {
		return
	}
	w.decided = true
	hd := w.ResponseWriter.Header()
	hd.Add("Vary", "Accept-Encoding")
	status := w.ResponseWriter.Status()
	if status == http.StatusNoContent || status == http.StatusNotModified || hd.Get("Content-Encoding") != "" ||
		!compressible(hd.Get("Content-Type")) {
		return
	}
	hd.Del("Content-Length")
	hd.Set("Content-Encoding", "gzip")
	w.gz = gzipWriters.Get().(*gzip.Writer)
	w.gz.Reset(w.ResponseWriter)
}

func (w *gzipWriter) close() {
	if w.gz == nil {
		return
	}
	w.gz.Close()
	w.gz.Reset(nil)
	gzipWriters.Put(w.gz)
	w.gz = nil
}
