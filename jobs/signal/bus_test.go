package signal_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"fleetprompt/jobs/signal"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

var ctx = context.Background()

// fixture is one tenant with a table the test subscribers write their
// effects to, one row per signal handled, so duplicates show.
type fixture struct {
	t  *testing.T
	s  *store.Store
	tn store.Tenant

	mu        sync.Mutex
	delivered chan struct{}
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	s := storetest.Store(t)
	tn, _ := storetest.NewTenant(t, s, "bus")
	s.DB.MustExec(`CREATE TABLE ` + pq.QuoteIdentifier(tn.Schema()) + `.test_effects (subscriber text, seq bigint, name text, replay boolean)`)
	return &fixture{t: t, s: s, tn: tn, delivered: make(chan struct{}, 10000)}
}

func (f *fixture) emit(name string) store.Signal {
	f.t.Helper()
	var sig store.Signal
	err := f.s.Tx(ctx, func(tx *sqlx.Tx) error {
		var err error
		sig, _, err = f.s.EmitSignal(ctx, tx, f.tn, store.NewSignal{Name: name, Source: "test", Actor: store.SystemActor("test")})
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return sig
}

// recorder is a subscriber that writes an effect row per signal, in the
// delivery's transaction; fail, while it returns an error, makes it fail
// after writing (the write must roll back).
func (f *fixture) recorder(name string, patterns []string, fail func(store.Signal) error) signal.Subscriber {
	return signal.Subscriber{Name: name, Signals: patterns, BatchSize: 3,
		HandleFunc: func(ctx context.Context, tx *sqlx.Tx, d signal.Delivery) error {
			for _, sig := range d.Signals {
				if _, err := tx.ExecContext(ctx, d.Tenant.SQL(`INSERT INTO {tenant}.test_effects VALUES ($1, $2, $3, $4)`),
					name, sig.Seq, sig.Name, d.Replay); err != nil {
					return err
				}
				if fail != nil {
					if err := fail(sig); err != nil {
						return err
					}
				}
			}
			return nil
		}}
}

func (f *fixture) bus(subs ...signal.Subscriber) *signal.Bus {
	f.t.Helper()
	b := signal.New(signal.Config{Store: f.s, DSN: storetest.DSN(), Tenants: []string{f.tn.Schema()}, Logger: storetest.Quiet(),
		MaxAttempts: 3, BackoffFunc: func(int) time.Duration { return 20 * time.Millisecond },
		OnDeliveredFunc: func(string, string, int64, int) {
			select {
			case f.delivered <- struct{}{}:
			default:
			}
		}})
	for _, s := range subs {
		b.Subscribe(s)
	}
	return b
}

func (f *fixture) start(b *signal.Bus) {
	f.t.Helper()
	if err := b.Start(ctx); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { b.Stop(ctx) })
}

// effects lists the seqs a subscriber handled, in the order it did.
func (f *fixture) effects(subscriber string) []int64 {
	var seqs []int64
	f.s.DB.Select(&seqs, f.tn.SQL(`SELECT seq FROM {tenant}.test_effects WHERE subscriber = $1 AND NOT replay ORDER BY ctid`), subscriber)
	return seqs
}

// waitFor waits until the subscriber's effects are want.
func (f *fixture) waitFor(subscriber string, want []int64) {
	f.t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		got := f.effects(subscriber)
		if fmt.Sprint(got) == fmt.Sprint(want) {
			return
		}
		select {
		case <-f.delivered:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			f.t.Fatalf("%s handled %v, want %v", subscriber, got, want)
		}
	}
}

func seqs(sigs ...store.Signal) []int64 {
	out := make([]int64, len(sigs))
	for i, s := range sigs {
		out[i] = s.Seq
	}
	return out
}

func TestSubscriberGetsWhatItWantsOnceInOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	old := f.emit("forum.post.created") // history: delivered too (not FromLatest)
	f.start(f.bus(f.recorder("rec", []string{"forum.*"}, nil)))
	var want []store.Signal
	want = append(want, old)
	for i := 0; i < 7; i++ { // more than a batch of 3
		f.emit("member.added") // not wanted
		want = append(want, f.emit("forum.post.created"))
	}
	f.waitFor("rec", seqs(want...))
	// The cursor ends at the head: the unwanted signals were passed too
	// (the last delivery may still be moving it there). The last signal
	// is a wanted one: an unwanted one last wakes nobody, so whether the
	// cursor passed it depended on whether the last delivery's head was
	// read before or after it committed (the test's occasional failure);
	// the next wanted signal, or the sweep, passes it.
	head, _ := f.s.SignalHead(ctx, f.s.DB, f.tn)
	deadline := time.Now().Add(10 * time.Second)
	for {
		cs, _ := f.s.SignalCursors(ctx, f.tn.Schema())
		if len(cs) == 1 && cs[0].Seq == head && cs[0].Delivered == int64(len(want)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cursor %+v, head %d", cs, head)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestFromLatestSkipsTheHistory(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.emit("package.installation.installed")
	fresh := f.recorder("fresh", []string{"package.installation.installed"}, nil)
	fresh.FromLatest = true
	f.start(f.bus(fresh))
	f.bus().Wake(f.tn.Schema()) // nothing to do for a bus without subscribers
	next := f.emit("package.installation.installed")
	f.waitFor("fresh", seqs(next))
}

func TestFailingSignalIsRetriedThenParkedAndReplayed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var broken atomic.Bool
	broken.Store(true)
	var poison int64
	fail := func(s store.Signal) error {
		if s.Seq == atomic.LoadInt64(&poison) && broken.Load() {
			return errors.New("cannot take this one")
		}
		return nil
	}
	a := f.emit("forum.thread.created")
	bad := f.emit("forum.thread.created")
	atomic.StoreInt64(&poison, bad.Seq)
	c := f.emit("forum.thread.created")
	b := f.bus(f.recorder("picky", []string{"forum.thread.created"}, fail))
	f.start(b)
	// a is delivered; bad fails MaxAttempts (3) times, rolled back each
	// time, then is parked, and c is delivered after it.
	f.waitFor("picky", seqs(a, c))
	failures, err := f.s.SignalFailures(ctx, f.tn.Schema(), 10)
	if err != nil || len(failures) != 1 || failures[0].Seq != bad.Seq || failures[0].Error != "cannot take this one" || failures[0].Attempts != 3 {
		t.Fatalf("failures %+v %v", failures, err)
	}
	// A replay delivers it once it works, and forgets the failure.
	broken.Store(false)
	rep, err := b.Replay(ctx, signal.ReplayFilter{Tenant: &f.tn})
	if err != nil || rep.Delivered != 1 || rep.Failed != 0 {
		t.Fatalf("replay %+v %v", rep, err)
	}
	f.waitFor("picky", seqs(a, c, bad))
	if failures, _ := f.s.SignalFailures(ctx, f.tn.Schema(), 10); len(failures) != 0 {
		t.Fatalf("failure kept after its replay: %+v", failures)
	}
}

func TestForcedReplayRedeliversWhatWasDelivered(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.bus(f.recorder("again", []string{"member.*"}, nil))
	f.start(b)
	x, y := f.emit("member.added"), f.emit("member.role_changed")
	f.waitFor("again", seqs(x, y))
	rep, err := b.Replay(ctx, signal.ReplayFilter{Tenant: &f.tn, Force: true, Name: "member.added"})
	if err != nil || rep.Signals != 1 || rep.Delivered != 1 {
		t.Fatalf("forced replay %+v %v", rep, err)
	}
	var replayed []int64
	f.s.DB.Select(&replayed, f.tn.SQL(`SELECT seq FROM {tenant}.test_effects WHERE replay`))
	if fmt.Sprint(replayed) != fmt.Sprint(seqs(x)) {
		t.Fatalf("replayed %v, want %v", replayed, seqs(x))
	}
}

// Two processes' buses share the work on one tenant: every signal takes
// effect once however the cursor passes between them.
func TestTwoBusesDeliverEachSignalOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.start(f.bus(f.recorder("shared", []string{"*"}, nil)))
	f.start(f.bus(f.recorder("shared", []string{"*"}, nil)))
	var want []store.Signal
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				s := f.emit("forum.post.created")
				mu.Lock()
				want = append(want, s)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	// Signals become visible in seq order, so the log order is seq order.
	ordered := make([]int64, 0, len(want))
	f.s.DB.Select(&ordered, f.tn.SQL(`SELECT seq FROM {tenant}.signals ORDER BY seq`))
	f.waitFor("shared", ordered)
}

// A subscriber whose delay people see (Coalesce < 0) looks again at once
// after a delivery, even when the bus batches everyone else's for long.
func TestSubscriberCoalesceOverridesTheBus(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	eager, patient := f.recorder("eager", []string{"forum.*"}, nil), f.recorder("patient", []string{"forum.*"}, nil)
	eager.Coalesce = -1
	b := signal.New(signal.Config{Store: f.s, DSN: storetest.DSN(), Tenants: []string{f.tn.Schema()}, Logger: storetest.Quiet(),
		Coalesce: time.Hour})
	b.Subscribe(eager)
	b.Subscribe(patient)
	f.start(b)
	first := f.emit("forum.post.created")
	f.waitFor("eager", seqs(first))
	f.waitFor("patient", seqs(first))
	second := f.emit("forum.post.created")
	f.waitFor("eager", seqs(first, second)) // within waitFor's 15 s, not the bus's hour
	if got := f.effects("patient"); len(got) != 1 {
		t.Fatalf("patient handled %v during its hour's wait, want only %d", got, first.Seq)
	}
}
