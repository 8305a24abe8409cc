package handlers

import (
	"html/template"
	"strings"
	"unicode"
	"unicode/utf8"

	"fleetprompt/store"
)

// highlight escapes s and turns the search's markers (and only them)
// into <mark>, balanced: the text is the post's, never trusted.
func highlight(s string) template.HTML {
	var b strings.Builder
	open := false
	for s != "" {
		i := strings.IndexAny(s, store.SearchMarkStart+store.SearchMarkStop)
		if i < 0 {
			b.WriteString(template.HTMLEscapeString(s))
			break
		}
		b.WriteString(template.HTMLEscapeString(s[:i]))
		switch start := strings.HasPrefix(s[i:], store.SearchMarkStart); {
		case start && !open:
			b.WriteString("<mark>")
			open = true
		case !start && open:
			b.WriteString("</mark>")
			open = false
		}
		s = s[i+len(store.SearchMarkStart):] // both markers are 3 bytes long
	}
	if open {
		b.WriteString("</mark>")
	}
	return template.HTML(b.String()) //nolint:gosec // every byte of s escaped above; the tags are ours
}

// plainMarkdown is a snippet of Markdown source as one line of text:
// emphasis, heading and quote marks dropped, white space collapsed.
func plainMarkdown(s string) string {
	s = strings.NewReplacer("#", "", "*", "", "`", "", ">", "").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// ellipses marks a snippet cut from the middle of its post: "…" before
// one that starts mid-sentence (a lowercase letter), after one that does
// not end a sentence.
func ellipses(s string) string {
	plain := strings.Trim(strings.NewReplacer(store.SearchMarkStart, "", store.SearchMarkStop, "").Replace(s), " ")
	if plain == "" {
		return s
	}
	first, _ := utf8.DecodeRuneInString(plain)
	last, _ := utf8.DecodeLastRuneInString(plain)
	if unicode.IsLower(first) {
		s = "…" + s
	}
	if !strings.ContainsRune(".!?…:;)\"'", last) {
		s += "…"
	}
	return s
}
