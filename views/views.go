// Package views renders FleetPrompt's HTML. Templates are embedded and
// parsed once at boot (a broken template fails the boot, not a request).
// Every page defines a "content" block: a full request renders the layout
// around it, an htmx request renders the block alone, so page and fragment
// come from one source.
package views

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"

	"fleetprompt/static"
)

//go:embed templates
var files embed.FS

// Renderer holds the parsed templates: one set per page, each the layout
// and partials plus that page, and the partials on their own.
type Renderer struct {
	pages    map[string]*template.Template
	partials *template.Template
}

// New parses every template. It fails on any error.
func New(assets *static.Assets, extra template.FuncMap) (*Renderer, error) {
	funcs := template.FuncMap{
		"asset":      assets.URL,
		"dict":       dict,
		"hasPrefix":  strings.HasPrefix,
		"lower":      strings.ToLower,
		"join":       strings.Join,
		"sub":        func(a, b int64) int64 { return a - b },
		"causeLabel": causeLabel,
		"ago":        ago,
		"avatar":     NewAvatar,
		"plural":     Plural,
		"thousands":  Thousands,
		"avatarLg":   LargeAvatar,
		"when":       func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"title": func(s string) string {
			if s == "" {
				return s
			}
			return strings.ToUpper(s[:1]) + strings.ReplaceAll(s[1:], "_", " ")
		},
	}
	for k, v := range extra {
		funcs[k] = v
	}
	base, err := template.New("base").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout and partials: %w", err)
	}
	pageFiles, err := fs.Glob(files, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	r := &Renderer{pages: map[string]*template.Template{}, partials: template.Must(base.Clone())}
	for _, f := range pageFiles {
		t, err := template.Must(base.Clone()).ParseFS(files, f)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", f, err)
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("%s defines no \"content\" block", f)
		}
		r.pages[strings.TrimSuffix(path.Base(f), ".html")] = t
	}
	return r, nil
}

// Render executes block ("layout" for a full page, "content" or another
// named fragment for htmx) of page into w. It renders into a buffer first
// so a failing template never sends half a page.
func (r *Renderer) Render(w io.Writer, page, block string, data any) error {
	t, ok := r.pages[page]
	if !ok {
		return fmt.Errorf("views: no page %q", page)
	}
	return execute(w, t, page, block, data)
}

// RenderPartial executes a block of templates/partials into w: a fragment
// that belongs to no page in particular (a live event, a chart).
func (r *Renderer) RenderPartial(w io.Writer, block string, data any) error {
	if r.partials.Lookup(block) == nil {
		return fmt.Errorf("views: no partial %q", block)
	}
	return execute(w, r.partials, "partials", block, data)
}

func execute(w io.Writer, t *template.Template, page, block string, data any) error {
	buf := renderBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledBuffer {
			renderBuffers.Put(buf)
		}
	}()
	buf.Reset()
	if err := t.ExecuteTemplate(buf, block, data); err != nil {
		return fmt.Errorf("render %s/%s: %w", page, block, err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// renderBuffers are reused across renders: a page like a thread's is
// ~110 KB, and growing a fresh buffer to that size on every request
// allocated twice as much and was 8% of the page's CPU.
var renderBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer keeps a rare huge page from pinning its buffer.
const maxPooledBuffer = 1 << 20

// HasBlock reports whether page defines block.
func (r *Renderer) HasBlock(page, block string) bool {
	t, ok := r.pages[page]
	return ok && t.Lookup(block) != nil
}

func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// causeLabel says what asked for a run, in words.
func causeLabel(cause string) string {
	switch cause {
	case "user":
		return "a person"
	case "chat_message":
		return "chat"
	case "signal":
		return "a signal"
	case "workflow_step":
		return "a workflow"
	case "api_key":
		return "the API"
	case "forum_post":
		return "a forum post"
	case "directive":
		return "a deployment"
	}
	return cause
}

func ago(t time.Time) string {
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%d d ago", int(d.Hours()/24))
	}
}

// Plural counts in words: Plural(1, "thread") is "1 thread", Plural(3,
// "thread") "3 threads", Plural(2, "reply", "replies") "2 replies". Any
// integer type, so templates can pass counts as they come.
func Plural(n any, one string, many ...string) (string, error) {
	var v int64
	switch x := n.(type) {
	case int:
		v = int64(x)
	case int32:
		v = int64(x)
	case int64:
		v = x
	case uint64:
		v = int64(x)
	default:
		return "", fmt.Errorf("plural: %T is not a count", n)
	}
	word := one
	if v != 1 {
		word = one + "s"
		if len(many) > 0 {
			word = many[0]
		}
	}
	return fmt.Sprintf("%d %s", v, word), nil
}
