package store

import (
	"context"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
)

// Replies to one thread commit in batches, as PostgreSQL commits WAL in
// groups. Every reply takes the thread's row lock (its count, its last
// post) and the tenant's emit lock (its signal), and holds both until its
// commit is on disk: one at a time, each paying its own statement and its
// own fsync, the thread took about 1/(0.6 ms + fsync) replies a second on
// an idle machine and far fewer on a busy one, where the holder is
// descheduled with every waiter behind it (bench/http -modes replies:
// 420/s, half the machine idle, the waiters on the row lock).
//
// So the replies a process has for one thread line up here: the first
// one runs at once, alone; those that arrive while it runs go together
// in the next statement (up to maxReplyBatch), and so on. Nothing waits
// for a batch to fill: under light load every reply is a batch of one, and
// under heavy load the batch grows with the queue. Each reply in a batch
// is its own post and its own signal, committed durably before any of
// their requests is answered; a batch that cannot insert one of them (a
// resent form's key, a thread locked meanwhile) falls back to one
// statement per reply, so each gets the answer it would have got alone.
// The row lock stays the rule across processes and against moderation.

// maxReplyBatch bounds one statement: a bigger batch keeps its lock longer
// and answers its first reply later.
const maxReplyBatch = 32

// replyLanes is how many batches of one thread this process runs at once:
// one holding the row lock and one ready behind it, so the lock is taken
// again the moment it is released, not a round trip later.
const replyLanes = 2

// replyBatchTimeout bounds a batch's statement: it runs for every request
// in it, so no single request's context may cancel it.
const replyBatchTimeout = 30 * time.Second

// replyLines holds one replyLine set per pool, as the statement cache does.
var replyLines sync.Map // *sqlx.DB → *replyQueue

type replyQueue struct {
	mu    sync.Mutex
	lines map[string]*replyLine // "<schema>/<thread id>"
}

type replyLine struct {
	waiting []*replyRequest
	running int // leaders running a batch (at most replyLanes)
}

// replyRequest is one reply waiting for its batch.
type replyRequest struct {
	actor           string // the author's user id
	body, html, key string
	done            chan replyResult // buffered: the batch never waits for the request
	lead            chan struct{}    // buffered: this request runs the next batch
	promoted        bool             // lead was sent (under replyQueue.mu)
}

type replyResult struct {
	Reply
	err error
}

func queueOf(db *sqlx.DB) *replyQueue {
	v, ok := replyLines.Load(db)
	if !ok {
		v, _ = replyLines.LoadOrStore(db, &replyQueue{lines: map[string]*replyLine{}})
	}
	return v.(*replyQueue)
}

// submitReply lines r up behind the thread's batches and returns its
// result: run by this request when a lane is free, or by another's batch.
func (s *Store) submitReply(ctx context.Context, t Tenant, threadID string, r *replyRequest) replyResult {
	q, key := queueOf(s.DB), t.Schema()+"/"+threadID
	if !q.join(key, r) {
		select {
		case res := <-r.done:
			return res
		case <-r.lead:
		case <-ctx.Done():
			if !q.withdraw(key, r) {
				return replyResult{err: ctx.Err()} // taken into a batch: its outcome is the batch's
			}
			// Promoted as it gave up: it still runs the batch for the others.
			s.leadReplies(ctx, t, threadID, q, key)
			return replyResult{err: ctx.Err()}
		}
	}
	s.leadReplies(ctx, t, threadID, q, key)
	return <-r.done
}

// leadReplies runs one batch of what is waiting (often including the
// leader's own reply, unless another lane took it) and hands the lane on.
func (s *Store) leadReplies(ctx context.Context, t Tenant, threadID string, q *replyQueue, key string) {
	batch := q.take(key)
	if len(batch) > 0 {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), replyBatchTimeout)
		s.runReplies(ctx, t, threadID, batch)
		cancel()
	}
	q.finish(key)
}

// join queues r and says whether it leads (a lane was free).
func (q *replyQueue) join(key string, r *replyRequest) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := q.lines[key]
	if l == nil {
		l = &replyLine{}
		q.lines[key] = l
	}
	l.waiting = append(l.waiting, r)
	if l.running < replyLanes {
		l.running++
		return true
	}
	return false
}

// withdraw takes r out of the queue when its request gives up. It reports
// whether r must still lead (it was promoted meanwhile); when r was
// already in a batch it is left there.
func (q *replyQueue) withdraw(key string, r *replyRequest) (mustLead bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := q.lines[key]
	if l == nil {
		return false
	}
	for i, w := range l.waiting {
		if w == r {
			l.waiting = append(l.waiting[:i], l.waiting[i+1:]...)
			break
		}
	}
	return r.promoted
}

// take removes the next batch from the queue.
func (q *replyQueue) take(key string) []*replyRequest {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := q.lines[key]
	n := min(len(l.waiting), maxReplyBatch)
	batch := append([]*replyRequest(nil), l.waiting[:n]...)
	l.waiting = l.waiting[n:]
	return batch
}

// finish frees the caller's lane: it goes to the first waiting request,
// or the line is forgotten when nothing is left in it.
func (q *replyQueue) finish(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := q.lines[key]
	l.running--
	for _, w := range l.waiting {
		if !w.promoted {
			w.promoted = true
			l.running++
			w.lead <- struct{}{}
			return
		}
	}
	if l.running == 0 && len(l.waiting) == 0 {
		delete(q.lines, key)
	}
}
