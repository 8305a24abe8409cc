package handlers

import "testing"

// Every hostile redirect target is refused as it would finally be read:
// after http.Redirect's cleaning, percent-decoding, and the browser's
// reading of backslashes and dropped control characters.
func TestLocalPathRefusesWhatBrowsersReadAsAnotherSite(t *testing.T) {
	t.Parallel()
	for _, target := range []string{
		"",
		"https://evil.example",
		"http:/evil.example",
		"javascript:alert(1)",
		"evil.example",
		"//evil.example/x",
		"///evil.example",
		"/\\evil.example",
		"\\\\evil.example",
		"/x/../\\evil.example", // cleaned to /\evil.example
		"/x/..\\/evil.example",
		"/%5Cevil.example",    // a decoded backslash
		"/%5cevil.example",    //
		"/%2F/evil.example",   // decodes to //evil.example
		"/%2f%2fevil.example", //
		"/\t/evil.example",    // browsers drop tabs and newlines
		"/\n/evil.example",
		"/\r\n/evil.example",
		"/%09/evil.example",
		"/%0a/evil.example",
		"/\x00/evil.example",
		"/\x7f/evil.example",
		"/ok?next=\\evil",
		"/%zz", // not decodable
	} {
		if got := localPath(target, "/fallback"); got != "/fallback" {
			t.Errorf("localPath(%q) = %q, want the fallback", target, got)
		}
	}
}

// Local paths pass in the form http.Redirect will send them.
func TestLocalPathKeepsLocalPathsAsSent(t *testing.T) {
	t.Parallel()
	for target, want := range map[string]string{
		"/":                     "/",
		"/dashboard":            "/dashboard",
		"/forums?x=1&y=%2F":     "/forums?x=1&y=%2F",
		"/forums/t/7#post-9":    "/forums/t/7#post-9",
		"/admin/agents/":        "/admin/agents/",
		"/x/../dashboard":       "/dashboard",
		"/x/..//evil.example":   "/evil.example", // a path on this site once cleaned
		"/./forums":             "/forums",
		"/marketplace?q=a%20b?": "/marketplace?q=a%20b?",
		"/search?":              "/search?",
	} {
		if got := localPath(target, "/fallback"); got != want {
			t.Errorf("localPath(%q) = %q, want %q", target, got, want)
		}
	}
}
