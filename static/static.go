// Package static serves the embedded assets under content-hashed URLs, so
// they can be cached forever and a new build is never served stale.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed app.css app.js *.svg vendor/*.js
var files embed.FS

// Assets maps logical names ("app.css") to hashed URLs and serves them.
type Assets struct {
	urls  map[string]string // name → /static/<hash>/<name>
	names map[string]string // hashed path → name
}

// Load hashes every embedded file once at boot.
func Load() (*Assets, error) {
	a := &Assets{urls: map[string]string{}, names: map[string]string{}}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".go") {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		u := "/static/" + hex.EncodeToString(sum[:6]) + "/" + p
		a.urls[p] = u
		a.names[u] = p
		return nil
	})
	return a, err
}

// URL returns the hashed URL of an asset; it panics on an unknown name so
// a typo in a template fails the first render in tests, not silently.
func (a *Assets) URL(name string) string {
	u, ok := a.urls[name]
	if !ok {
		panic("static: unknown asset " + name)
	}
	return u
}

// ServeHTTP serves /static/<hash>/<name>. Only the current hash is served:
// an old URL is a 404 rather than new content under an immutable URL.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := a.names[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	b, _ := files.ReadFile(name)
	w.Header().Set("Content-Type", mime.TypeByExtension(path.Ext(name)))
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(b)
}
