package handlers

import (
	"strings"
	"unicode/utf8"
)

// excerpt is the start of a post's Markdown as one line of plain text,
// cut at a word within n characters.
func excerpt(md string, n int) string {
	s := strings.Join(strings.Fields(strings.NewReplacer("#", "", "*", "", "`", "", ">", "").Replace(md)), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " .,;:") + "…"
}
