package handlers_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"fleetprompt/store/storetest"
)

// Every body is capped at 1 MiB, urlencoded or multipart, announced
// (Content-Length) or not (chunked): 413 with the styled error page.
func TestOversizedBodiesAre413(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	c := s.client()
	c.register(storetest.Name("big"))
	big := strings.Repeat("a", 2<<20)
	mp, ct := multipartBody(t, map[string]string{"body": big}, "")
	bodies := []struct {
		name, ct string
		body     func() io.Reader
	}{
		{"urlencoded", "application/x-www-form-urlencoded", func() io.Reader { return strings.NewReader("body=" + big) }},
		{"urlencoded, chunked", "application/x-www-form-urlencoded", func() io.Reader { return onlyReader{strings.NewReader("body=" + big)} }},
		{"multipart", ct, func() io.Reader { return bytes.NewReader(mp) }},
		{"multipart, chunked", ct, func() io.Reader { return onlyReader{bytes.NewReader(mp)} }},
	}
	for _, b := range bodies {
		for _, path := range []string{"/login", "/register", "/orgs"} {
			req, _ := http.NewRequest(http.MethodPost, s.srv.URL+path, b.body())
			req.Header.Set("Content-Type", b.ct)
			r := c.do(req)
			if r.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("%s body to %s: status %d, want 413", b.name, path, r.StatusCode)
				continue
			}
			if code := text(r.doc(t), ".error-page .code"); code != "413" || !strings.Contains(r.Body, "1 MiB") {
				t.Errorf("%s body to %s: no styled page naming the limit: %.300s", b.name, path, r.Body)
			}
		}
	}
}

// A multipart upload is read in memory up to the cap and never spills
// to temporary files (four 1 GB uploads once put 3.8 GB in /tmp).
func TestMultipartNeverSpillsToDisk(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where mime/multipart would write its files
	s := newSite(t)
	c := s.client()
	c.register(storetest.Name("spill"))
	for _, size := range []int{900 << 10, 40 << 20} { // Gin alone keeps 32 MiB in memory
		mp, ct := multipartBody(t, map[string]string{"email": "x@example.com"}, strings.Repeat("z", size))
		req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/login", onlyReader{bytes.NewReader(mp)})
		req.Header.Set("Content-Type", ct)
		c.do(req)
	}
	if files, _ := filepath.Glob(filepath.Join(tmp, "multipart-*")); len(files) > 0 {
		t.Errorf("multipart parts spilled to disk: %v", files)
	}
}

// Multipart values get the same NUL / invalid UTF-8 checks as urlencoded
// ones: 422 naming the field, never a 500 from the database.
func TestUnstorableMultipartInputIsRefused(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	slug := storetest.Name("mpnul")
	for _, bad := range []string{"A\x00B", "A\xff\xfeB"} {
		for path, fields := range map[string]map[string]string{
			"/login":    {"email": bad, "password": "password123"},
			"/register": {"org_name": bad, "org_slug": slug, "name": "x", "email": slug + "@example.com", "password": "password123"},
		} {
			body, ct := multipartBody(t, fields, "")
			req, _ := http.NewRequest(http.MethodPost, s.srv.URL+path, bytes.NewReader(body))
			req.Header.Set("Content-Type", ct)
			r := s.client().do(req)
			wantStatus(t, r, http.StatusUnprocessableEntity)
			field := "email"
			if path == "/register" {
				field = "org_name"
			}
			if !strings.Contains(r.Body, field) {
				t.Errorf("%s: the message does not name %s: %.300s", path, field, r.Body)
			}
		}
	}
	if _, err := s.store.OrganizationBySlug(ctx, slug); err == nil {
		t.Error("an organization was created from unstorable multipart input")
	}
	// A clean multipart form still works.
	body, ct := multipartBody(t, map[string]string{"org_name": "Org", "org_slug": slug, "name": "x",
		"email": slug + "@example.com", "password": "password123"}, "")
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/register", bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	wantStatus(t, s.client().do(req), http.StatusSeeOther)
}

// multipartBody encodes fields, and a file part when file is not empty.
func multipartBody(t *testing.T, fields map[string]string, file string) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	if file != "" {
		fw, _ := w.CreateFormFile("upload", "big.bin")
		io.WriteString(fw, file)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), w.FormDataContentType()
}

// onlyReader hides the length of a body, so it is sent chunked.
type onlyReader struct{ io.Reader }
