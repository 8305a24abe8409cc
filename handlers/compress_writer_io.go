package handlers

import "net/http"

func (w *gzipWriter) Write(b []byte) (int, error) {
	w.decide()
	if w.gz == nil {
		return w.ResponseWriter.Write(b)
	}
	w.ResponseWriter.WriteHeaderNow()
	return w.gz.Write(b)
}

func (w *gzipWriter) WriteString(s string) (int, error) { return w.Write([]byte(s)) }

// WriteHeaderNow is gin's "send the headers": a response without a body
// (a redirect) gets its Vary too.
func (w *gzipWriter) WriteHeaderNow() {
	if !w.Written() {
		w.ResponseWriter.Header().Add("Vary", "Accept-Encoding")
		w.decided = true
	}
	w.ResponseWriter.WriteHeaderNow()
}

func (w *gzipWriter) Flush() {
	if w.gz != nil {
		w.gz.Flush()
	}
	w.ResponseWriter.Flush()
}

// Unwrap lets http.ResponseController reach the connection.
func (w *gzipWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
