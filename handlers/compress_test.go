package handlers_test

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// TestResponsesAreCompressed: pages and assets go out gzipped to a
// client that asks, with Vary; a client that does not ask, or refuses
// gzip with q=0, gets plain bytes; a live stream is never compressed.
func TestResponsesAreCompressed(t *testing.T) {
	s := startSite(t, siteConfig{live: true})
	c := s.client()
	page := c.get("/login", "Accept-Encoding", "gzip, deflate, br")
	wantStatus(t, page, http.StatusOK)
	if page.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(strings.Join(page.Header.Values("Vary"), ","), "Accept-Encoding") {
		t.Fatalf("page: Content-Encoding %q, Vary %q", page.Header.Get("Content-Encoding"), page.Header.Values("Vary"))
	}
	zr, err := gzip.NewReader(strings.NewReader(page.Body))
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(zr)
	if !strings.Contains(string(html), `<form`) || len(page.Body) >= len(html) {
		t.Fatalf("gzip body of %d bytes for %d bytes of HTML", len(page.Body), len(html))
	}

	href, _ := page.docOf(t, string(html)).Find(`link[rel=stylesheet]`).Attr("href")
	css := c.get(href, "Accept-Encoding", "gzip")
	if css.Header.Get("Content-Encoding") != "gzip" || !strings.HasPrefix(css.Header.Get("Cache-Control"), "public") {
		t.Errorf("app.css: Content-Encoding %q, Cache-Control %q", css.Header.Get("Content-Encoding"), css.Header.Get("Cache-Control"))
	}
	for _, ae := range []string{"identity", "gzip;q=0, br"} {
		if r := c.get("/login", "Accept-Encoding", ae); r.Header.Get("Content-Encoding") != "" || !strings.Contains(r.Body, "<form") {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q", ae, r.Header.Get("Content-Encoding"))
		}
	}

	c.register("gzipsse")
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, _ := http.NewRequestWithContext(cctx, http.MethodGet, s.srv.URL+"/events?topic=tenant", nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("event stream: %d, Content-Encoding %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
}

func (r *response) docOf(t *testing.T, html string) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		t.Fatal(err)
	}
	return d
}
