package handlers

import (
	"context"
	"encoding/json"
	"html"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"

	"fleetprompt/handlers/live"
	"fleetprompt/jobs/agent"
	"fleetprompt/store"
)

// The execution relay shows agents' output on open pages as it is
// written. Output of this process's engine arrives through Publish (no
// database in between); output of other processes (a worker, another
// server) over NOTIFY on agent.StreamChannel. Each execution shows on its
// own page (topic execution:<id>) and where it belongs: a chat answer in
// its conversation, a forum answer in its thread. The text streams as
// ephemeral events (live.Ephemeral): a page that joins mid-answer first
// gets everything so far, then the increments; the finished output
// arrives as a signal and replaces the streamed text.

// ExecRelay is the relay; the app hands it to the agent engine.
type ExecRelay struct {
	h      *Handler
	origin string
	mu     sync.Mutex
	flows  map[string]*execFlow // schema/execution id
}

// execFlow is one execution being written.
type execFlow struct {
	mu    sync.Mutex // the ephemerals' lock: guards text
	t     store.Tenant
	ex    store.Execution
	text  strings.Builder
	views []execView
}

// execView is the execution on one topic: the element its text goes in.
type execView struct {
	eph    *live.Ephemeral
	target string
}

// NewExecRelay builds the relay for this process (origin as the engine's
// NOTIFY stream names it); Listen follows the other processes.
func (h *Handler) NewExecRelay(origin string) *ExecRelay {
	return &ExecRelay{h: h, origin: origin, flows: map[string]*execFlow{}}
}

// Publish takes an event of this process's engine.
func (r *ExecRelay) Publish(ev agent.StreamEvent) {
	if r.h.live == nil {
		return
	}
	r.apply(ev.Tenant, ev.Execution, ev.Kind, ev.Offset, ev.Text)
}

// Listen follows the other processes' output until ctx ends; ready, when
// set, is called once it listens.
func (r *ExecRelay) Listen(ctx context.Context, dsn string, ready func()) {
	l := pq.NewListener(dsn, 10*time.Millisecond, 5*time.Second, nil)
	defer l.Close()
	err := l.Listen(agent.StreamChannel)
	if ready != nil {
		ready()
	}
	if err != nil {
		r.h.log.Warn("listen for execution output: only this process's is shown live", "err", err)
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case n := <-l.Notify:
			if n != nil {
				r.notified(ctx, n.Extra)
			}
		}
	}
}

func (r *ExecRelay) notified(ctx context.Context, payload string) {
	var nt agent.StreamNotice
	if json.Unmarshal([]byte(payload), &nt) != nil || nt.Origin == r.origin {
		return
	}
	t, ok := nt.Tenant()
	if !ok {
		return
	}
	r.mu.Lock()
	f := r.flows[t.Schema()+"/"+nt.ExecutionID]
	r.mu.Unlock()
	ex := store.Execution{ID: nt.ExecutionID}
	if f == nil && nt.Kind != agent.StreamEnd {
		// A flow this process did not see start: read where it belongs,
		// and what it had written when the row was last saved.
		var err error
		if ex, err = r.h.store.Execution(ctx, t, nt.ExecutionID); err != nil {
			return
		}
		if nt.Kind == agent.StreamDelta && len(ex.Output) >= nt.Offset {
			r.apply(t, ex, agent.StreamStart, 0, "")
			r.apply(t, ex, agent.StreamDelta, 0, ex.Output[:nt.Offset])
		}
	}
	r.apply(t, ex, nt.Kind, nt.Offset, nt.Text)
}

// apply moves an execution's flow on by one event.
func (r *ExecRelay) apply(t store.Tenant, ex store.Execution, kind string, off int, text string) {
	key := t.Schema() + "/" + ex.ID
	r.mu.Lock()
	f := r.flows[key]
	switch {
	case kind == agent.StreamStart && f == nil:
		f = &execFlow{t: t, ex: ex}
		r.flows[key] = f
		r.mu.Unlock()
		r.open(f)
		return
	case kind == agent.StreamEnd && f != nil:
		delete(r.flows, key)
	}
	r.mu.Unlock()
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch kind {
	case agent.StreamDelta:
		have := f.text.Len()
		if off > have || off+len(text) <= have {
			return // a gap (the finished output will show all) or a repeat
		}
		text = text[have-off:]
		f.text.WriteString(text)
		for _, v := range f.views {
			v.eph.Send("agent.output.delta", appendTextHTML(v.target, text))
		}
	case agent.StreamEnd:
		for _, v := range f.views {
			v.eph.Close()
		}
	}
}

// open starts the execution's flows on each topic it shows on.
func (r *ExecRelay) open(f *execFlow) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, tv := range r.topics(f.t, f.ex) {
		tv := tv
		v := execView{target: tv.target}
		v.eph = r.h.live.Ephemeral(f.t, tv.topic, &f.mu, "agent.output.snapshot", func() []byte {
			return tv.catchUp(f.text.String())
		})
		v.eph.SendAll("agent.output.started", tv.catchUp(f.text.String()))
		f.views = append(f.views, v)
	}
}

// topicView is an execution on one topic: the element its text grows in,
// and what brings a page up to date (the text so far, and whatever holds
// it when the page lacks it).
type topicView struct {
	topic   live.Topic
	target  string
	catchUp func(text string) []byte
}

// topics are where an execution shows.
func (r *ExecRelay) topics(t store.Tenant, ex store.Execution) []topicView {
	target := "exec-" + ex.ID + "-output"
	out := []topicView{{live.Topic{Kind: live.KindExecution, Arg: ex.ID}, target,
		func(text string) []byte { return replaceTextHTML(target, text) }}}
	c := ex.Context()
	switch ex.Purpose {
	case store.PurposeChat:
		if tv, ok := r.chatView(t, c); ok {
			out = append(out, tv)
		}
	case store.PurposeForumReply, store.PurposeWorkflow:
		if c.ThreadID != "" && (ex.Purpose == store.PurposeForumReply || c.ShowInThread) {
			target := "agent-answer-" + ex.ID + "-text"
			out = append(out, topicView{live.Topic{Kind: live.KindThread, Arg: c.ThreadID}, target,
				func(text string) []byte { return r.h.agentAnswerHTML(t, ex, text) }})
		}
	}
	return out
}

// chatView is a chat answer in its conversation: its bubble, added to
// pages that lack it.
func (r *ExecRelay) chatView(t store.Tenant, c store.ExecutionContext) (topicView, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conv, err := r.h.store.ConversationByID(ctx, t, c.ConversationID)
	if err != nil {
		return topicView{}, false
	}
	msg, err := r.h.store.ChatMessage(ctx, t, conv.ID, c.MessageID)
	if err != nil {
		return topicView{}, false
	}
	return topicView{live.Topic{Kind: live.KindChat, Arg: conv.ID}, "chat-msg-" + msg.ID + "-text",
		func(text string) []byte { return r.h.startedHTML(t, conv, nil, msg, text) }}, true
}

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
