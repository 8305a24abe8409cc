package live

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fleetprompt/store"
)

// Audience limits a fragment to members or to moderators (owner, admin):
// one event is rendered per audience, never per viewer.
type Audience int

// Audiences.
const (
	Everyone Audience = iota
	MembersOnly
	ModeratorsOnly
)

// Fragment is HTML for the streams of one topic kind ("thread",
// "category", "installations", "tenant"). Several fragments for the same
// kind are sent as one event, in order; extra ones usually carry
// hx-swap-oob so one event updates several parts of a page.
type Fragment struct {
	Kind string
	HTML []byte
	For  Audience
}

// RenderFunc renders a signal's fragments. It may read the database (the
// signal has committed). A topic kind it returns nothing for gets the
// generic activity row ("tenant") or an inert comment (others), so every
// event still carries data and moves the page's cursor.
type RenderFunc func(ctx context.Context, t store.Tenant, sig store.Signal) ([]Fragment, error)

// Render registers fn for signals named name, or for every signal whose
// name starts with name when it ends in "." ("forum.post."). The longest
// match wins. Register before Start.
func (h *Hub) Render(name string, fn RenderFunc) {
	h.renderMu.Lock()
	defer h.renderMu.Unlock()
	h.renderers[name] = fn
}

func (h *Hub) rendererFor(name string) RenderFunc {
	h.renderMu.RLock()
	defer h.renderMu.RUnlock()
	if fn, ok := h.renderers[name]; ok {
		return fn
	}
	var best string
	var fn RenderFunc
	for k, f := range h.renderers {
		if strings.HasSuffix(k, ".") && strings.HasPrefix(name, k) && len(k) > len(best) {
			best, fn = k, f
		}
	}
	return fn
}

// ActivityRow is the data of the generic "live_activity_row" block: one
// line of the tenant's activity feed for any signal.
type ActivityRow struct {
	Seq     int64
	Name    string
	Actor   string
	Subject string
	At      time.Time
}

// ElementID is the row's stable HTML id: a row already shown is skipped.
func (r ActivityRow) ElementID() string { return "activity-" + strconv.FormatInt(r.Seq, 10) }

// Activity describes a signal for the activity feed. userNames resolves
// user actors (nil: ids are shown).
func Activity(sig store.Signal, userNames map[int64]string) ActivityRow {
	row := ActivityRow{Seq: sig.Seq, Name: sig.Name, At: sig.OccurredAt, Actor: "system"}
	switch {
	case sig.ActorType == "user":
		id, _ := strconv.ParseInt(sig.ActorID, 10, 64)
		if n := userNames[id]; n != "" {
			row.Actor = n
		} else {
			row.Actor = "user " + sig.ActorID
		}
	case sig.ActorType != "" && sig.ActorID != "":
		row.Actor = sig.ActorType + " " + sig.ActorID
	case sig.ActorType != "":
		row.Actor = sig.ActorType
	}
	if sig.SubjectType != "" {
		id := sig.SubjectID
		if len(id) > 8 && len(id) == 36 { // a uuid: its first block is enough to tell rows apart
			id = id[:8]
		}
		row.Subject = sig.SubjectType + " " + id
	}
	return row
}

// activityHTML renders the generic row.
func (h *Hub) activityHTML(ctx context.Context, sig store.Signal) ([]byte, error) {
	names := map[int64]string{}
	if sig.ActorType == "user" {
		if id, err := strconv.ParseInt(sig.ActorID, 10, 64); err == nil {
			var err error
			if names, err = h.store.UserNames(ctx, []int64{id}); err != nil {
				return nil, err
			}
		}
	}
	var buf bytes.Buffer
	if err := h.views.Render(&buf, "dashboard", "live_activity_row", Activity(sig, names)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// rendered is a signal's events for one topic, per audience.
type rendered struct {
	member, moderator *event
}

// renderedKey holds, in a RenderFunc's context, the topics it renders for.
type renderedKey struct{}

// Wants reports whether a RenderFunc called with ctx renders for topics
// of kind: it may skip the fragments of kinds that nobody follows here
// (true when ctx does not say).
func Wants(ctx context.Context, kind string) bool {
	topics, ok := ctx.Value(renderedKey{}).([]Topic)
	if !ok {
		return true
	}
	for _, t := range topics {
		if t.Kind == kind {
			return true
		}
	}
	return false
}

// renderSignal renders sig for each of topics (those someone follows).
// The registered renderer runs at most once per signal.
func (h *Hub) renderSignal(ctx context.Context, t store.Tenant, sig store.Signal, topics []Topic) (map[Topic]rendered, error) {
	var frags []Fragment
	if fn := h.rendererFor(sig.Name); fn != nil {
		var err error
		if frags, err = fn(context.WithValue(ctx, renderedKey{}, topics), t, sig); err != nil {
			return nil, fmt.Errorf("render %s %d: %w", sig.Name, sig.Seq, err)
		}
	}
	out := make(map[Topic]rendered, len(topics))
	var activity []byte
	for _, topic := range topics {
		var member, mod []byte
		custom := false
		for _, f := range frags {
			if f.Kind != topic.Kind {
				continue
			}
			custom = true
			if f.For != ModeratorsOnly {
				member = append(member, f.HTML...)
			}
			if f.For != MembersOnly {
				mod = append(mod, f.HTML...)
			}
		}
		if !custom && topic.Kind == KindTenant {
			if activity == nil {
				var err error
				if activity, err = h.activityHTML(ctx, sig); err != nil {
					return nil, fmt.Errorf("render activity row %d: %w", sig.Seq, err)
				}
			}
			member, mod = activity, activity
		}
		mk := newEvent
		if topic.Kind == KindMe {
			mk = newAsideEvent // other streams carry it too (Request.WithMe)
		}
		r := rendered{member: mk(sig.Seq, sig.Name, eventData(member, sig))}
		if bytes.Equal(member, mod) {
			r.moderator = r.member
		} else {
			r.moderator = mk(sig.Seq, sig.Name, eventData(mod, sig))
		}
		out[topic] = r
	}
	return out, nil
}

// eventData makes html safe to send: never empty (r3labs ends the stream
// on empty data) and on one line (a lone \r would end an SSE line early).
func eventData(html []byte, sig store.Signal) []byte {
	html = bytes.TrimSpace(html)
	if len(html) == 0 {
		return []byte("<!-- " + sig.Name + " " + strconv.FormatInt(sig.Seq, 10) + " -->")
	}
	return oneLine(html)
}

// oneLine puts an HTML fragment on one line without changing what it
// means: a line break inside a tag becomes a space, one in text (where
// <pre> and <textarea> keep it) the character reference &#10;. Fragments
// never contain raw-text elements (no inline script or style: the CSP
// forbids them). One "data:" line per event instead of one per template
// line saves formatting and parsing on every connection of the fan-out.
func oneLine(html []byte) []byte {
	if bytes.IndexAny(html, "\r\n") < 0 {
		return html
	}
	out := make([]byte, 0, len(html)+64)
	inTag := false
	for i := 0; i < len(html); i++ {
		switch c := html[i]; c {
		case '<':
			inTag = true
			out = append(out, c)
		case '>':
			inTag = false
			out = append(out, c)
		case '\r':
			if i+1 < len(html) && html[i+1] == '\n' {
				continue // the \n that follows stands for both
			}
			fallthrough
		case '\n':
			if inTag {
				out = append(out, ' ')
			} else {
				out = append(out, "&#10;"...)
			}
		default:
			out = append(out, c)
		}
	}
	return out
}
