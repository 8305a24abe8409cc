package agent

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"fleetprompt/store"
)

// StreamChannel is the NOTIFY channel that carries executions' output
// between processes: a worker process has no live pages, and the pages
// watching an execution may be open on any server.
const StreamChannel = "fp_exec"

// StreamNotice is one StreamChannel payload.
type StreamNotice struct {
	Origin      string `json:"o"` // the publishing process, so it can skip its own
	Schema      string `json:"s"`
	OrgID       int64  `json:"g"`
	ExecutionID string `json:"e"`
	Kind        string `json:"k"`
	Offset      int    `json:"f"`
	Text        string `json:"t,omitempty"`
}

// maxNoticeText keeps a notice under PostgreSQL's 8000-byte payload.
const maxNoticeText = 6000

// NotifyStream publishes events on StreamChannel from one goroutine, in
// order, coalescing the deltas that pile up while a NOTIFY is in flight:
// a busy process sends fewer, larger notices instead of falling behind.
type NotifyStream struct {
	db     *sqlx.DB
	origin string
	log    *slog.Logger

	mu      sync.Mutex
	pending []StreamNotice
	flushed []chan struct{} // closed once what was pending when they came is sent
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

// NewNotifyStream starts the sender; Close stops it after sending what is
// queued.
func NewNotifyStream(db *sqlx.DB, origin string, log *slog.Logger) *NotifyStream {
	n := &NotifyStream{db: db, origin: origin, log: log, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go n.run()
	return n
}

// Publish queues ev. The end of an output waits (a moment at most) until
// everything before it is sent: the run's outcome commits after, so other
// servers hear the last words before the signal that settles them.
func (n *NotifyStream) Publish(ev StreamEvent) {
	nt := StreamNotice{Origin: n.origin, Schema: ev.Tenant.Schema(), OrgID: ev.Tenant.OrgID, ExecutionID: ev.Execution.ID,
		Kind: ev.Kind, Offset: ev.Offset, Text: ev.Text}
	n.mu.Lock()
	if last := len(n.pending) - 1; last >= 0 && coalesces(n.pending[last], nt) {
		n.pending[last].Text += nt.Text
	} else {
		n.pending = append(n.pending, nt)
	}
	var sent chan struct{}
	if ev.Kind == StreamEnd {
		sent = make(chan struct{})
		n.flushed = append(n.flushed, sent)
	}
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
	if sent != nil {
		select {
		case <-sent:
		case <-time.After(2 * time.Second):
		}
	}
}

func coalesces(a, b StreamNotice) bool {
	return a.Kind == StreamDelta && b.Kind == StreamDelta && a.ExecutionID == b.ExecutionID && a.Schema == b.Schema &&
		a.Offset+len(a.Text) == b.Offset && len(a.Text)+len(b.Text) <= maxNoticeText
}

func (n *NotifyStream) run() {
	defer close(n.done)
	for {
		select {
		case <-n.wake:
		case <-n.stop:
			n.flush()
			return
		}
		n.flush()
	}
}

func (n *NotifyStream) flush() {
	n.mu.Lock()
	batch, waiting := n.pending, n.flushed
	n.pending, n.flushed = nil, nil
	n.mu.Unlock()
	defer func() {
		for _, w := range waiting {
			close(w)
		}
	}()
	for _, nt := range batch {
		for _, part := range split(nt) {
			b, _ := json.Marshal(part)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if _, err := n.db.ExecContext(ctx, `SELECT pg_notify($1, $2)`, StreamChannel, string(b)); err != nil {
				// Watchers on other servers miss this piece and show the
				// saved output, then the finished one.
				n.log.Warn("publish execution output", "execution", nt.ExecutionID, "err", err)
			}
			cancel()
		}
	}
}

// split cuts a notice whose text is too long for one NOTIFY.
func split(nt StreamNotice) []StreamNotice {
	if len(nt.Text) <= maxNoticeText {
		return []StreamNotice{nt}
	}
	var out []StreamNotice
	for off := 0; off < len(nt.Text); {
		end := min(off+maxNoticeText, len(nt.Text))
		for end < len(nt.Text) && end > off && !utf8Start(nt.Text[end]) {
			end--
		}
		part := nt
		part.Offset, part.Text = nt.Offset+off, nt.Text[off:end]
		out = append(out, part)
		off = end
	}
	return out
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// Close sends what is queued and stops.
func (n *NotifyStream) Close() {
	close(n.stop)
	<-n.done
}

// Tee publishes each event to every stream in turn.
type Tee []Stream

// Publish hands ev to each stream.
func (t Tee) Publish(ev StreamEvent) {
	for _, s := range t {
		s.Publish(ev)
	}
}

// Tenant rebuilds the tenant of a notice.
func (nt StreamNotice) Tenant() (store.Tenant, bool) {
	slug, ok := cutPrefix(nt.Schema, "org_")
	return store.Tenant{OrgID: nt.OrgID, Slug: slug}, ok
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) < len(p) || s[:len(p)] != p {
		return s, false
	}
	return s[len(p):], true
}
