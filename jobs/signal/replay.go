package signal

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs"
	"fleetprompt/store"
)

// ReplayFilter selects what to replay; empty fields do not filter.
type ReplayFilter struct {
	// Tenant limits the replay to one organization; nil means all.
	Tenant *store.Tenant
	// Name is an exact signal name or a prefix pattern ending in ".*".
	Name         string
	Since, Until time.Time // occurred_at in [Since, Until)
	FromSeq      int64     // seq >= FromSeq
	ToSeq        int64     // seq <= ToSeq (0: no bound)
	// Subscriber limits the replay to one subscriber ("" means all).
	Subscriber string
	// Force re-delivers signals the subscribers had already (an admin's
	// explicit replay). Otherwise the replay delivers what was not: the
	// signals subscribers gave up on, and whatever their cursors have
	// not reached yet.
	Force bool
}

// ReplayReport says what a replay did.
type ReplayReport struct {
	Tenants   int // tenants looked at
	Signals   int // signals selected (forced) or given up on before (not forced)
	Delivered int // signals handed to a subscriber
	Failed    int // deliveries that failed again (they stay recorded)
}

// replayPage bounds one page of a forced replay.
const replayPage = 500

// Replay delivers again, synchronously: the `fleetprompt replay` command
// and the admin's signals page call it; cron's replay job runs the
// catch-up part for every tenant.
func (b *Bus) Replay(ctx context.Context, f ReplayFilter) (ReplayReport, error) {
	var rep ReplayReport
	tenants := []store.Tenant{}
	if f.Tenant != nil {
		tenants = append(tenants, *f.Tenant)
	} else {
		var err error
		if tenants, err = b.tenants(ctx); err != nil {
			return rep, fmt.Errorf("replay: %w", err)
		}
	}
	for _, t := range tenants {
		rep.Tenants++
		var err error
		if f.Force {
			err = b.replayForced(ctx, t, f, &rep)
		} else {
			err = b.replayFailures(ctx, t, f, &rep)
		}
		if err != nil {
			return rep, fmt.Errorf("replay %s: %w", t.Schema(), err)
		}
		b.catchUp(ctx, t, f.Subscriber)
	}
	return rep, nil
}

func (b *Bus) selected(name string) []*worker {
	var out []*worker
	for _, w := range b.workers() {
		if name == "" || w.sub.Name == name {
			out = append(out, w)
		}
	}
	return out
}

// catchUp delivers whatever the cursors in t have not reached yet.
func (b *Bus) catchUp(ctx context.Context, t store.Tenant, subscriber string) {
	for _, w := range b.selected(subscriber) {
		b.drain(ctx, w, t.Schema())
	}
}

// replayForced hands the selected signals to every subscriber that wants
// them again, a page at a time, each subscriber's share in a transaction
// holding its cursor: only signals at or below the cursor count as
// delivered before, the rest are on their way anyway.
func (b *Bus) replayForced(ctx context.Context, t store.Tenant, f ReplayFilter, rep *ReplayReport) error {
	r := store.SignalRange{Name: f.Name, Since: f.Since, Until: f.Until, FromSeq: f.FromSeq, ToSeq: f.ToSeq}
	for after := int64(0); ; {
		page, err := b.st.SignalsInRange(ctx, t, r, after, replayPage)
		if err != nil || len(page) == 0 {
			return err
		}
		rep.Signals += len(page)
		after = page[len(page)-1].Seq
		for _, w := range b.selected(f.Subscriber) {
			n, err := b.redeliver(ctx, w, t, page)
			if err != nil {
				rep.Failed += n
				b.log.Warn("forced replay failed", "subscriber", w.sub.Name, "tenant", t.Schema(), "err", err)
				continue
			}
			rep.Delivered += n
		}
		if len(page) < replayPage {
			return nil
		}
	}
}

// redeliver gives w the signals of page it wants and has had.
func (b *Bus) redeliver(ctx context.Context, w *worker, t store.Tenant, page []store.Signal) (int, error) {
	var n int
	err := b.st.Tx(ctx, func(tx *sqlx.Tx) error {
		c, err := b.st.LockSignalCursorTx(ctx, tx, w.sub.Name, t.Schema())
		if err != nil {
			return err
		}
		var sigs []store.Signal
		for _, s := range page {
			if s.Seq <= c.Seq && w.wants(s.Name) {
				sigs = append(sigs, s)
			}
		}
		n = len(sigs)
		if n == 0 {
			return nil
		}
		return callHandler(ctx, tx, w.sub, Delivery{Tenant: t, Signals: sigs, Replay: true, Cursor: c.Seq})
	})
	return n, err
}

// replayFailures delivers the signals subscribers gave up on in t (within
// the filter), forgetting each failure once it is delivered.
func (b *Bus) replayFailures(ctx context.Context, t store.Tenant, f ReplayFilter, rep *ReplayReport) error {
	failures, err := b.st.SignalFailures(ctx, t.Schema(), 5000)
	if err != nil {
		return err
	}
	for _, fl := range failures {
		w := b.worker(fl.Subscriber)
		if w == nil || f.Subscriber != "" && f.Subscriber != fl.Subscriber {
			continue
		}
		sigs, err := b.st.SignalsInRange(ctx, t, store.SignalRange{Name: f.Name, Since: f.Since, Until: f.Until,
			FromSeq: f.FromSeq, ToSeq: f.ToSeq, Seqs: []int64{fl.Seq}}, 0, 1)
		if err != nil {
			return err
		}
		if len(sigs) == 0 {
			continue // outside the filter
		}
		rep.Signals++
		err = b.st.Tx(ctx, func(tx *sqlx.Tx) error {
			if _, err := b.st.LockSignalCursorTx(ctx, tx, w.sub.Name, t.Schema()); err != nil {
				return err
			}
			if err := callHandler(ctx, tx, w.sub, Delivery{Tenant: t, Signals: sigs}); err != nil {
				return err
			}
			return b.st.ForgetSignalFailureTx(ctx, tx, w.sub.Name, t.Schema(), fl.Seq)
		})
		if err != nil {
			rep.Failed++
			b.log.Warn("replay of a failed signal failed again", "subscriber", w.sub.Name, "tenant", t.Schema(), "seq", fl.Seq, "err", err)
			continue
		}
		rep.Delivered++
	}
	return nil
}

// CatchUpJob is the job handler of cron's replay task: every subscriber
// catches up in every tenant, in case this process's wake-ups missed some.
func (b *Bus) CatchUpJob(ctx context.Context, _ *jobs.Job) error {
	tenants, err := b.tenants(ctx)
	if err != nil {
		return err
	}
	for _, t := range tenants {
		b.catchUp(ctx, t, "")
	}
	return ctx.Err()
}
