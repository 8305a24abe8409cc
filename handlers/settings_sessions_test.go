package handlers

import "testing"

func TestClientSummary(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0":                                                "Firefox on Linux",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0": "Edge on Windows",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15":    "Safari on macOS",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1":   "Safari on iOS",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36":     "Chrome on Android",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0 Safari/537.36":             "Headless Chrome on Linux",
		"curl/8.5.0":                      "curl",
		"Go-http-client/1.1":              "Go HTTP client",
		"":                                "Unknown client",
		"SomethingElse/1.0":               "Other client",
		"Mozilla/5.0 (X11; Linux x86_64)": "A browser on Linux",
	} {
		if got := clientSummary(ua); got != want {
			t.Errorf("clientSummary(%q) = %q, want %q", ua, got, want)
		}
	}
}

func TestExcerpt(t *testing.T) {
	for in, want := range map[string]string{
		"## Hello\n\n**bold** `code`":       "Hello bold code",
		"short":                             "short",
		"one two three four five six seven": "one two three…",
	} {
		n := 240
		if len(in) > 30 {
			n = 16
		}
		if got := excerpt(in, n); got != want {
			t.Errorf("excerpt(%q, %d) = %q, want %q", in, n, got, want)
		}
	}
}
