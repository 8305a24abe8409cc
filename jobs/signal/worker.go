package signal

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"fleetprompt/store"
)

// worker is one subscriber's loop in this process: the tenants it has
// been told to look at, and a wake-up when there are some.
type worker struct {
	sub   Subscriber
	mu    sync.Mutex
	dirty map[string]struct{}
	wake  chan struct{}
}

func newWorker(s Subscriber) *worker {
	return &worker{sub: s, dirty: map[string]struct{}{}, wake: make(chan struct{}, 1)}
}

// wants reports whether the subscriber wants signals named name ("" when
// the notification did not say: look anyway).
func (w *worker) wants(name string) bool { return name == "" || store.MatchesAny(w.sub.Signals, name) }

// mark asks the loop to look at schema, without blocking: one pending
// wake-up stands for any number.
func (w *worker) mark(schema string) {
	w.mu.Lock()
	w.dirty[schema] = struct{}{}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *worker) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.dirty))
	for s := range w.dirty {
		out = append(out, s)
	}
	clear(w.dirty)
	return out
}

// run delivers to one subscriber until ctx ends. A tenant marked while
// it is being delivered to is looked at again, so a signal committed
// during a delivery is never left behind.
//
// After a wake-up that delivered something, it waits Config.Coalesce
// before looking again: a busy tenant's signals then go to the subscriber
// a batch per transaction instead of one or two (each NOTIFY would
// otherwise be a claim, a read, a handler call and a commit of its own),
// while the first signal after a quiet spell is delivered at once.
func (b *Bus) run(ctx context.Context, w *worker) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		}
		delivered := false
		for _, schema := range w.take() {
			if b.drain(ctx, w, schema) {
				delivered = true
			}
		}
		if wait := b.coalesce(w); delivered && wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
	}
}

// coalesce is how long w waits after a delivery before it looks again.
func (b *Bus) coalesce(w *worker) time.Duration {
	if w.sub.Coalesce != 0 {
		return w.sub.Coalesce
	}
	return b.cfg.Coalesce
}

// drain delivers to w in schema until it is caught up, another worker
// holds the cursor, or a delivery fails (then a retry is scheduled). It
// reports whether a delivery committed.
func (b *Bus) drain(ctx context.Context, w *worker, schema string) (delivered bool) {
	t, err := b.tenant(ctx, schema)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) && ctx.Err() == nil {
			b.log.Warn("signal delivery: find tenant", "subscriber", w.sub.Name, "tenant", schema, "err", err)
			b.retryLater(ctx, w, schema, time.Second)
		}
		return false
	}
	for ctx.Err() == nil {
		n, more, attempts, err := b.deliverOnce(ctx, w, t)
		if err != nil {
			b.failed(ctx, w, t, attempts+1, err)
			return delivered
		}
		delivered = delivered || n > 0
		if !more {
			return delivered
		}
	}
	return delivered
}

// deliverOnce makes one delivery: claim the cursor and read the next
// batch (one statement), handle it, move the cursor, commit. more says
// another batch may follow; attempts is the cursor's count of failures
// before this one.
func (b *Bus) deliverOnce(ctx context.Context, w *worker, t store.Tenant) (n int, more bool, attempts int, err error) {
	var last int64
	err = b.st.Tx(ctx, func(tx *sqlx.Tx) error {
		batch, ok, err := b.st.ClaimSignalBatchTx(ctx, tx, w.sub.Name, t, w.sub.Signals, w.sub.BatchSize)
		if err != nil || !ok {
			return err // held elsewhere: that worker delivers
		}
		c := batch.Cursor
		attempts = c.Attempts
		if c.RetryAt.Valid && time.Until(c.RetryAt.Time) > 0 {
			b.retryLater(ctx, w, t.Schema(), time.Until(c.RetryAt.Time))
			return nil
		}
		last, n, more, err = b.deliverBatch(ctx, tx, w, t, batch)
		return err
	})
	if err == nil && n > 0 && b.cfg.OnDeliveredFunc != nil {
		b.cfg.OnDeliveredFunc(w.sub.Name, t.Schema(), last, n)
	}
	return n, more, attempts, err
}

// deliverBatch is the body of a delivery, in the cursor's transaction.
// After a failure the batch is one signal, so the one that fails is
// known, and it is parked once it has failed MaxAttempts times.
func (b *Bus) deliverBatch(ctx context.Context, tx *sqlx.Tx, w *worker, t store.Tenant, batch store.SignalBatch) (last int64, n int, more bool, err error) {
	c, head, sigs := batch.Cursor, batch.Head, batch.Signals
	limit := w.sub.BatchSize
	if c.Attempts > 0 {
		limit = 1
	}
	if len(sigs) == 0 {
		if head > c.Seq {
			err = b.st.AdvanceSignalCursorTx(ctx, tx, w.sub.Name, t.Schema(), head, 0)
		}
		return 0, 0, false, err
	}
	if c.Attempts >= b.cfg.MaxAttempts {
		b.log.Error("signal delivery: giving up on a signal, recorded in signal_failures", "subscriber", w.sub.Name,
			"tenant", t.Schema(), "seq", sigs[0].Seq, "attempts", c.Attempts, "err", c.LastError.String)
		return 0, 0, true, b.st.ParkSignalTx(ctx, tx, c, sigs[0].Seq)
	}
	if err := callHandler(ctx, tx, w.sub, Delivery{Tenant: t, Signals: sigs}); err != nil {
		return 0, 0, false, err
	}
	last = sigs[len(sigs)-1].Seq
	to := last
	if len(sigs) < limit {
		to = head // nothing else it wants up to the head
	}
	return last, len(sigs), len(sigs) == limit, b.st.AdvanceSignalCursorTx(ctx, tx, w.sub.Name, t.Schema(), to, len(sigs))
}

// callHandler runs the subscriber's handler, turning a panic into an
// error so it is retried and recorded like any failure.
func callHandler(ctx context.Context, tx *sqlx.Tx, s Subscriber, d Delivery) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("subscriber %s panicked: %v\n%s", s.Name, p, debug.Stack())
		}
	}()
	return s.HandleFunc(ctx, tx, d)
}

// failed records the attempt-th failed delivery on the cursor and
// schedules the retry.
func (b *Bus) failed(ctx context.Context, w *worker, t store.Tenant, attempt int, cause error) {
	if ctx.Err() != nil {
		return // stopping: the rolled-back delivery is made again later
	}
	wait := b.cfg.BackoffFunc(attempt)
	if err := b.st.RecordSignalFailure(context.WithoutCancel(ctx), w.sub.Name, t.Schema(), cause.Error(), time.Now().Add(wait)); err != nil {
		b.log.Error("signal delivery: record failure", "subscriber", w.sub.Name, "tenant", t.Schema(), "err", err, "cause", cause)
		wait = 5 * time.Second
	}
	b.log.Warn("signal delivery failed", "subscriber", w.sub.Name, "tenant", t.Schema(), "attempt", attempt, "retry_in", wait, "err", cause)
	b.retryLater(ctx, w, t.Schema(), wait)
}

// retryLater marks schema for w again after d.
func (b *Bus) retryLater(ctx context.Context, w *worker, schema string, d time.Duration) {
	time.AfterFunc(d, func() {
		if ctx.Err() == nil {
			w.mark(schema)
		}
	})
}
