package live

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/lib/pq"

	"fleetprompt/store"
)

// Start opens the LISTEN connection and runs the fan-in, watchdog and
// revalidation loops until ctx ends or Close is called.
func (h *Hub) Start(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	h.cancelRun = cancel
	l := pq.NewListener(h.dsn, 100*time.Millisecond, 5*time.Second, func(ev pq.ListenerEventType, err error) {
		if err != nil {
			h.log.Warn("live listener", "event", ev, "err", err)
		}
	})
	for _, ch := range []string{h.cfg.Channel, h.cfg.ControlChannel} {
		if err := l.Listen(ch); err != nil {
			cancel()
			l.Close()
			return err
		}
	}
	h.running.Add(3)
	go func() {
		defer h.running.Done()
		defer l.Close()
		h.listen(ctx, l)
	}()
	go func() {
		defer h.running.Done()
		h.watch(ctx)
	}()
	go func() {
		defer h.running.Done()
		h.revalidate(ctx)
	}()
	return nil
}

// listen reads notifications, in batches when they come quickly, so a
// burst costs one query per tenant rather than one per signal.
func (h *Hub) listen(ctx context.Context, l *pq.Listener) {
	ping := time.NewTicker(60 * time.Second)
	defer ping.Stop()
	for {
		var first *pq.Notification
		select {
		case <-ctx.Done():
			return
		case <-ping.C:
			go l.Ping()
			continue
		case first = <-l.Notify:
		}
		batch := []*pq.Notification{first}
	drain:
		for len(batch) < 512 {
			select {
			case n := <-l.Notify:
				batch = append(batch, n)
			default:
				break drain
			}
		}
		h.handle(ctx, batch)
	}
}

// handle processes one batch in arrival (= commit) order per tenant.
func (h *Hub) handle(ctx context.Context, batch []*pq.Notification) {
	type tenantSeqs struct {
		schema string
		seqs   []int64
	}
	var order []*tenantSeqs
	bySchema := map[string]*tenantSeqs{}
	for _, n := range batch {
		if n == nil {
			// The connection was lost and re-established: notifications
			// may have been missed. Every stream reconnects and resumes
			// from the database.
			h.observe(func(o Observer) {
				if o.Lost != nil {
					o.Lost()
				}
			})
			n := h.endWhere("listener reconnected", func(*subscriber) bool { return true })
			h.log.Warn("live listener reconnected; streams told to resume", "streams", n)
			continue
		}
		if n.Channel == h.cfg.ControlChannel {
			h.control(n.Extra)
			h.observe(func(o Observer) {
				if o.Control != nil {
					o.Control(n.Extra)
				}
			})
			continue
		}
		schema, seq, err := store.ParseSignalNotification(n.Extra)
		if err != nil {
			h.log.Warn("live: ignoring notification", "err", err)
			continue
		}
		h.observe(func(o Observer) {
			if o.Signal != nil {
				o.Signal(schema, seq)
			}
		})
		// Nobody here follows this tenant: a stream that subscribes later
		// finds the signal in the database when it replays.
		if !h.watched(schema) {
			h.notifyProcessed(schema, seq)
			continue
		}
		ts := bySchema[schema]
		if ts == nil {
			ts = &tenantSeqs{schema: schema}
			bySchema[schema] = ts
			order = append(order, ts)
		}
		ts.seqs = append(ts.seqs, seq)
	}
	for _, ts := range order {
		if err := h.publishTenant(ctx, ts.schema, ts.seqs); err != nil && ctx.Err() == nil {
			// The streams of this tenant may have missed events: make them
			// resume from the database rather than stay silently behind.
			h.log.Error("live: publish signals", "schema", ts.schema, "err", err)
			h.endWhere("publish failed", func(s *subscriber) bool { return s.schema == ts.schema })
		}
		for _, seq := range ts.seqs {
			h.notifyProcessed(ts.schema, seq)
		}
	}
}

func (h *Hub) notifyProcessed(schema string, seq int64) {
	if h.processed != nil {
		h.processed(schema, seq)
	}
}

func (h *Hub) publishTenant(ctx context.Context, schema string, seqs []int64) error {
	t, err := h.tenant(ctx, schema)
	if errors.Is(err, store.ErrNotFound) {
		return nil // the organization is gone
	} else if err != nil {
		return err
	}
	sigs, err := h.store.SignalsBySeqs(ctx, t, seqs)
	if err != nil {
		return err
	}
	// A topic's events of the whole batch go out in one fan-out: a
	// hub that fell behind catches up with one write per stream, not one
	// per event (the streams of the topic share each event's bytes).
	res := newResolver(h.store, t)
	var keys []string
	byKey := map[string][]rendered{}
	for _, sig := range sigs {
		var watched []Topic
		for _, topic := range res.topicsOf(ctx, sig) {
			if h.hasSubscribers(streamKey(schema, topic)) {
				watched = append(watched, topic)
			}
		}
		if len(watched) == 0 {
			continue
		}
		evs, err := h.renderSignal(ctx, t, sig, watched)
		if err != nil {
			return err
		}
		for _, topic := range watched {
			key := streamKey(schema, topic)
			if _, ok := byKey[key]; !ok {
				keys = append(keys, key)
			}
			byKey[key] = append(byKey[key], evs[topic])
		}
	}
	for _, key := range keys {
		h.deliver(key, byKey[key])
	}
	return nil
}

// tenant resolves a schema to its tenant, cached: organizations are not
// renamed.
func (h *Hub) tenant(ctx context.Context, schema string) (store.Tenant, error) {
	h.orgMu.Lock()
	id, ok := h.orgIDs[schema]
	h.orgMu.Unlock()
	if ok {
		return store.Tenant{OrgID: id, Slug: strings.TrimPrefix(schema, "org_")}, nil
	}
	t, err := h.store.TenantBySchema(ctx, schema)
	if err != nil {
		return t, err
	}
	h.orgMu.Lock()
	h.orgIDs[schema] = t.OrgID
	h.orgMu.Unlock()
	return t, nil
}

// resolver computes which topics a signal belongs to. It may look up a
// post's thread (directive signals about a post carry only the post id),
// memoised for the batch it serves.
type resolver struct {
	store       *store.Store
	t           store.Tenant
	postThreads map[string]string
}

func newResolver(st *store.Store, t store.Tenant) *resolver {
	return &resolver{store: st, t: t, postThreads: map[string]string{}}
}

// topicsOf: a private signal (Private) goes to "chat:<id>" of its
// conversation and "execution:<id>" of its answer, nowhere else. Every
// other signal goes to "tenant"; to "thread:<id>" when it is about a
// thread or one of its posts (payload thread_id, or its subject); to
// "category:<slug>" when it concerns a category or a thread in it
// (payload category_slug, or slug for forum.category.*); to
// "execution:<id>" and "run:<id>" for an execution's or a workflow run's
// signals (payload execution_id, run_id); to "installations" when it is
// about packages (package.*, or a directive whose kind is package.*).
func (r *resolver) topicsOf(ctx context.Context, sig store.Signal) []Topic {
	var p map[string]any
	if len(sig.Payload) > 0 {
		json.Unmarshal(sig.Payload, &p) // a payload that is not an object just has no routing fields
	}
	str := func(k string) string { s, _ := p[k].(string); return s }
	if Private(sig) {
		// Only the conversation's stream and the answer's execution page,
		// which only their owner may follow.
		var topics []Topic
		if conv := strings.ToLower(str("conversation_id")); uuidRE.MatchString(conv) {
			topics = append(topics, Topic{Kind: KindChat, Arg: conv})
		}
		if ex := strings.ToLower(str("execution_id")); uuidRE.MatchString(ex) {
			topics = append(topics, Topic{Kind: KindExecution, Arg: ex})
		}
		return topics
	}
	topics := []Topic{{Kind: KindTenant}}

	thread := strings.ToLower(str("thread_id"))
	if thread == "" && sig.SubjectType == store.SubjectForumThread {
		thread = sig.SubjectID
	}
	if thread == "" && sig.SubjectType == store.SubjectForumPost {
		thread = r.threadOfPost(ctx, sig.SubjectID)
	}
	if uuidRE.MatchString(thread) {
		topics = append(topics, Topic{Kind: KindThread, Arg: thread})
	}

	cat := str("category_slug")
	if cat == "" && strings.HasPrefix(sig.Name, "forum.category.") {
		cat = str("slug")
	}
	if cat != "" && len(cat) <= 64 && categorySlugRE.MatchString(cat) {
		topics = append(topics, Topic{Kind: KindCategory, Arg: cat})
	}

	// An execution's signals go to its page; a workflow's to its run's.
	if ex := strings.ToLower(str("execution_id")); uuidRE.MatchString(ex) {
		topics = append(topics, Topic{Kind: KindExecution, Arg: ex})
	}
	if run := strings.ToLower(str("run_id")); uuidRE.MatchString(run) {
		topics = append(topics, Topic{Kind: KindRun, Arg: run})
	}

	// A person's notifications go to their own stream (subject: the user).
	if strings.HasPrefix(sig.Name, "notification.") && sig.SubjectType == "user" && sig.SubjectID != "" {
		topics = append(topics, Topic{Kind: KindMe, Arg: sig.SubjectID})
	}
	if strings.HasPrefix(sig.Name, "package.") || sig.SubjectType == "package" ||
		strings.HasPrefix(sig.Name, "directive.") && strings.HasPrefix(str("kind"), "package.") {
		topics = append(topics, Topic{Kind: KindInstallations})
	}
	return topics
}

func (r *resolver) threadOfPost(ctx context.Context, postID string) string {
	if th, ok := r.postThreads[postID]; ok {
		return th
	}
	th := ""
	if p, err := r.store.ForumPost(ctx, r.t, postID); err == nil {
		th = p.ThreadID
	}
	r.postThreads[postID] = th
	return th
}
