package webhook

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"fleetprompt/store"
)

// recorder commits attempts in batches: every delivery job waits for its
// attempts' commits (so the job completes only once they count),
// but the attempts that finish while a batch is being written go into the
// next batch together, one transaction per tenant, instead of a
// transaction each. Under light load a batch is one attempt and nothing
// waits; under a burst of thousands of deliveries a second, the commits
// stay few. No goroutine lives between bursts: the job that finds no
// batch being written writes the queue until it is empty.
type recorder struct {
	st           *store.Store
	disableAfter time.Duration
	log          *slog.Logger

	mu       sync.Mutex
	queue    []*pendingAttempt
	flushing bool
}

type pendingAttempt struct {
	t    store.Tenant
	a    store.WebhookAttempt
	err  *error          // set to the batch's error
	done *sync.WaitGroup // then Done
}

// maxBatch bounds the attempts of one transaction.
const maxBatch = 1000

// add queues a for the next batch; once a has committed (or its batch
// failed), *err is set to the batch's error and done is marked Done. The
// caller waits as it likes (a delivery job waits for all its attempts at
// once, not a goroutine each).
func (r *recorder) add(ctx context.Context, t store.Tenant, a store.WebhookAttempt, err *error, done *sync.WaitGroup) {
	r.mu.Lock()
	r.queue = append(r.queue, &pendingAttempt{t: t, a: a, err: err, done: done})
	lead := !r.flushing
	r.flushing = true
	r.mu.Unlock()
	if lead {
		// The batch outlives this job's context: other jobs' attempts
		// are in it.
		go r.flush(context.WithoutCancel(ctx))
	}
}

// flush writes batches until the queue is empty.
func (r *recorder) flush(ctx context.Context) {
	for {
		r.mu.Lock()
		batch := r.queue
		if len(batch) > maxBatch {
			batch, r.queue = batch[:maxBatch], batch[maxBatch:]
		} else {
			r.queue = nil
		}
		if len(batch) == 0 {
			r.flushing = false
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
		r.write(ctx, batch)
	}
}

// write commits one batch, a transaction per tenant.
func (r *recorder) write(ctx context.Context, batch []*pendingAttempt) {
	byTenant := map[store.Tenant][]*pendingAttempt{}
	for _, p := range batch {
		byTenant[p.t] = append(byTenant[p.t], p)
	}
	for t, ps := range byTenant {
		as := make([]store.WebhookAttempt, len(ps))
		for i, p := range ps {
			as[i] = p.a
		}
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := r.st.RecordWebhookAttempts(wctx, t, as, r.disableAfter)
		cancel()
		if err != nil {
			r.log.Warn("record webhook attempts", "tenant", t.Schema(), "attempts", len(as), "err", err)
		}
		for _, p := range ps {
			*p.err = err
			p.done.Done()
		}
	}
}
