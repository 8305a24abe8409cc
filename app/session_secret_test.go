package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"fleetprompt/handlers"
	"fleetprompt/static"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
	"fleetprompt/views"
)

// Two instances on one DATABASE_URL, each with its own DATA_DIR and no
// SESSION_SECRET, starting at the same moment, accept each other's
// cookies: the generated secret is kept in the database.
func TestGeneratedSessionSecretIsSharedThroughTheDatabase(t *testing.T) {
	stores := []*store.Store{storetest.Store(t), storetest.Store(t)} // two pools, as two processes
	cfgs := []Config{{DatabaseURL: storetest.DSN(), DataDir: t.TempDir()}, {DatabaseURL: storetest.DSN(), DataDir: t.TempDir()}}
	secrets := make([][]byte, 2)
	var wg sync.WaitGroup
	for i := range cfgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if secrets[i], err = sessionSecret(context.Background(), cfgs[i], stores[i]); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(secrets[0]) < 32 || string(secrets[0]) != string(secrets[1]) {
		t.Fatalf("the instances generated different secrets: %q, %q", secrets[0], secrets[1])
	}
	a, b := serveHandlers(t, stores[0], secrets[0]), serveHandlers(t, stores[1], secrets[1])
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	slug := storetest.Name("secret")
	resp, err := browser.PostForm(a.URL+"/register", url.Values{"org_name": {"Org"}, "org_slug": {slug}, "name": {"Owner"},
		"email": {slug + "@example.com"}, "password": {"password123"}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("register on instance A: %v %v", resp.Status, err)
	}
	resp.Body.Close()
	// The same cookie, presented to instance B.
	bURL, _ := url.Parse(b.URL)
	aURL, _ := url.Parse(a.URL)
	jar.SetCookies(bURL, jar.Cookies(aURL))
	resp, err = browser.Get(b.URL + "/dashboard")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("instance B answered %d to instance A's cookie, want 200", resp.StatusCode)
	}
	// SESSION_SECRET, when set, wins; a secret file left by an older
	// version is what a fresh database would keep.
	if s, _ := sessionSecret(context.Background(), Config{SessionSecret: "set-by-hand"}, stores[0]); string(s) != "set-by-hand" {
		t.Errorf("SESSION_SECRET ignored: %q", s)
	}
	dir := t.TempDir()
	legacy := strings.Repeat("ab", 20)
	os.WriteFile(filepath.Join(dir, "session.secret"), []byte(legacy+"\n"), 0o600)
	if got, err := legacySecret(dir); err != nil || got != legacy {
		t.Errorf("legacy secret %q %v", got, err)
	}
}

// serveHandlers serves the app's handlers over st with secret.
func serveHandlers(t *testing.T, st *store.Store, secret []byte) *httptest.Server {
	t.Helper()
	assets, err := static.Load()
	if err != nil {
		t.Fatal(err)
	}
	rend, err := views.New(assets, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := handlers.New(handlers.Config{Store: st, Views: rend, Assets: assets, SessionSecret: secret,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(h.Routes())
	t.Cleanup(srv.Close)
	return srv
}
