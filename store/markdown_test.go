package store_test

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"fleetprompt/store"
)

func TestMarkdownNeutralisesRawHTMLAndUnsafeLinks(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		src      string
		mustNot  []string // substrings the HTML must not contain
		wantText string   // text that must survive
	}{
		"script tag":        {"hi <script>alert(1)</script>", []string{"<script"}, "hi"},
		"inline handler":    {`<img src=x onerror="alert(1)">`, []string{"<img", "onerror"}, ""},
		"javascript link":   {"[click](javascript:alert(1))", []string{"javascript:", "<a"}, "click"},
		"entity obfuscated": {"[click](&#106;avascript:alert(1))", []string{"avascript:", "<a"}, "click"},
		"mixed case":        {"[x](JaVaScRiPt:alert(1))", []string{"<a", "alert"}, "x"},
		"vbscript":          {"[x](vbscript:msgbox)", []string{"<a"}, "x"},
		"data link":         {"[x](data:text/html;base64,PHNjcmlwdD4=)", []string{"<a", "data:"}, "x"},
		"autolink":          {"<javascript:alert(1)>", []string{"<a", "href"}, "javascript:alert(1)"},
		"image":             {"![alt text](javascript:alert(1))", []string{"<img"}, "alt text"},
		"iframe block":      {"<iframe src=\"https://evil.example\"></iframe>", []string{"<iframe"}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			out := string(store.RenderMarkdown(tc.src))
			for _, bad := range tc.mustNot {
				if strings.Contains(strings.ToLower(out), strings.ToLower(bad)) {
					t.Errorf("%q rendered %q, containing %q", tc.src, out, bad)
				}
			}
			d, _ := goquery.NewDocumentFromReader(strings.NewReader(out))
			if !strings.Contains(d.Text(), tc.wantText) {
				t.Errorf("%q rendered %q, lost text %q", tc.src, out, tc.wantText)
			}
		})
	}
}

func TestMarkdownKeepsSafeFormatting(t *testing.T) {
	t.Parallel()
	out := string(store.RenderMarkdown("**bold** [site](https://example.com) [rel](/forums) `code`"))
	d, _ := goquery.NewDocumentFromReader(strings.NewReader(out))
	if d.Find("strong").Text() != "bold" || d.Find("code").Text() != "code" {
		t.Errorf("formatting lost: %s", out)
	}
	if href, _ := d.Find(`a:contains("site")`).Attr("href"); href != "https://example.com" {
		t.Errorf("https link: %s", out)
	}
	if rel, _ := d.Find(`a:contains("site")`).Attr("rel"); !strings.Contains(rel, "nofollow") {
		t.Errorf("user links should be nofollow: %s", out)
	}
	if href, _ := d.Find(`a:contains("rel")`).Attr("href"); href != "/forums" {
		t.Errorf("relative link: %s", out)
	}
}
