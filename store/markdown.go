package store

import (
	"bytes"
	"html/template"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// markdown is the one renderer for user-written text. goldmark without
// html.WithUnsafe drops raw HTML ("<!-- raw HTML omitted -->"); the link
// filter below goes further than goldmark's own dangerous-URL check by
// allowing only a short list of schemes, so a new browser scheme is unsafe
// until someone decides otherwise.
var markdown = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(linkFilter{}, 1000))),
)

// RenderMarkdown renders a post's Markdown as HTML that is safe to put in
// a page: no raw HTML, links only to http(s), mailto or relative URLs.
func RenderMarkdown(src string) template.HTML {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(src), &buf); err != nil {
		// goldmark only fails when the writer does; a bytes.Buffer does
		// not. Fall back to escaped text rather than losing the post.
		return template.HTML("<p>" + template.HTMLEscapeString(src) + "</p>")
	}
	return template.HTML(buf.String()) //nolint:gosec // sanitised by construction: raw HTML off, links filtered
}

// linkFilter neutralises links and images whose URL has a scheme outside
// the allowlist: a link keeps its text but loses its target, an autolink
// becomes plain text, an image becomes its alt text. Other links get
// rel="nofollow ugc noopener" since the text is user content.
type linkFilter struct{}

func (linkFilter) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	src := reader.Source()
	type swap struct{ old, new ast.Node }
	var swaps []swap
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch l := n.(type) {
		case *ast.Link:
			if !safeURL(l.Destination, true) {
				swaps = append(swaps, swap{l, nil})
			} else {
				l.SetAttributeString("rel", []byte("nofollow ugc noopener"))
			}
		case *ast.Image:
			if !safeURL(l.Destination, false) {
				swaps = append(swaps, swap{l, nil})
			}
		case *ast.AutoLink:
			if !safeURL(l.URL(src), true) {
				swaps = append(swaps, swap{l, ast.NewString(l.Label(src))})
			} else {
				l.SetAttributeString("rel", []byte("nofollow ugc noopener"))
			}
		}
		return ast.WalkContinue, nil
	})
	for _, s := range swaps {
		parent := s.old.Parent()
		if parent == nil {
			continue
		}
		if s.new != nil {
			parent.ReplaceChild(parent, s.old, s.new)
			continue
		}
		// Unwrap: the link's (or image's alt) children take its place.
		for c := s.old.FirstChild(); c != nil; {
			next := c.NextSibling()
			parent.InsertBefore(parent, s.old, c)
			c = next
		}
		parent.RemoveChild(parent, s.old)
	}
}

// safeURL allows relative URLs and the http, https (and for links mailto)
// schemes. Browsers ignore tabs, newlines and leading control characters
// inside a scheme ("java\tscript:"), so those are removed before looking.
func safeURL(u []byte, link bool) bool {
	// The AST keeps destinations as written; the renderer resolves
	// escapes and entities ("&#106;avascript:"), so check what it will.
	u = util.ResolveNumericReferences(util.ResolveEntityNames(util.UnescapePunctuations(u)))
	s := strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f {
			return -1
		}
		return r
	}, string(u))
	end := strings.IndexAny(s, ":/?#")
	if end < 0 || s[end] != ':' {
		return true // no scheme: a relative URL or fragment
	}
	switch strings.ToLower(s[:end]) {
	case "http", "https":
		return true
	case "mailto":
		return link
	}
	return false
}
