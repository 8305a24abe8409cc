package handlers

import (
	"html"
	"strings"

	"fleetprompt/store"
)

// appendTextHTML appends text to element id out of band. The text is
// escaped; the element shows it with white-space: pre-wrap, and a line
// break is a character reference so the event stays on one data line.
func appendTextHTML(id, s string) []byte {
	var b strings.Builder
	b.Grow(len(s) + 80)
	b.WriteString(`<span hx-swap-oob="beforeend:#`)
	b.WriteString(id)
	b.WriteString(`">`)
	b.WriteString(strings.ReplaceAll(html.EscapeString(s), "\n", "&#10;"))
	b.WriteString(`</span>`)
	return []byte(b.String())
}

// replaceTextHTML sets the whole text of element id out of band (the
// catch-up of a page that joins mid-answer).
func replaceTextHTML(id, s string) []byte {
	return []byte(`<span id="` + id + `" class="streamed" hx-swap-oob="outerHTML">` +
		strings.ReplaceAll(html.EscapeString(s), "\n", "&#10;") + `</span>`)
}

// agentAnswerHTML is an agent's answer being written in a forum thread:
// a placeholder post, added to pages that lack it, holding the text so
// far. The finished post replaces it (forum.post.created).
func (h *Handler) agentAnswerHTML(t store.Tenant, ex store.Execution, text string) []byte {
	id := "agent-answer-" + ex.ID
	var b strings.Builder
	b.WriteString(`<div hx-swap-oob="beforeend:#posts"><article id="` + id + `" class="post agent-answering" data-testid="agent-answering" data-execution="` + ex.ID + `">`)
	b.WriteString(`<header class="post-head"><strong>` + html.EscapeString(ex.AgentName) + `</strong> <span class="badge">agent</span> <span class="muted small">is answering…</span></header>`)
	b.WriteString(`<div class="post-body"><span id="` + id + `-text" class="streamed"></span></div></article></div>`)
	b.Write(replaceTextHTML(id+"-text", text))
	return []byte(b.String())
}
