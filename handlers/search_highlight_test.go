package handlers

import (
	"testing"

	"fleetprompt/store"
)

// highlight escapes everything and makes <mark> of the search's markers
// only, always balanced, however the markers come.
func TestHighlight(t *testing.T) {
	s, e := store.SearchMarkStart, store.SearchMarkStop
	for _, tc := range []struct{ in, want string }{
		{"plain <b>text</b> & \"q\"", "plain &lt;b&gt;text&lt;/b&gt; &amp; &#34;q&#34;"},
		{"a " + s + "word" + e + " b", "a <mark>word</mark> b"},
		{s + "<script>" + e, "<mark>&lt;script&gt;</mark>"},
		{"open " + s + "never closed", "open <mark>never closed</mark>"},
		{"stray " + e + "stop", "stray stop"},
		{s + s + "twice" + e + e, "<mark>twice</mark>"},
		{"", ""},
	} {
		if got := string(highlight(tc.in)); got != tc.want {
			t.Errorf("highlight(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEllipses(t *testing.T) {
	s, e := store.SearchMarkStart, store.SearchMarkStop
	for _, tc := range []struct{ in, want string }{
		{"Whole sentence.", "Whole sentence."},
		{"cut " + s + "here" + e, "…cut " + s + "here" + e + "…"},
		{s + "Deploy" + e + " runs one test", s + "Deploy" + e + " runs one test…"},
		{"", ""},
	} {
		if got := ellipses(tc.in); got != tc.want {
			t.Errorf("ellipses(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
