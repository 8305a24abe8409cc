package store_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

func newTenant(t *testing.T, s *store.Store) (store.Tenant, store.User) {
	return storetest.NewTenant(t, s, "sig")
}

func quiet() *slog.Logger { return storetest.Quiet() }

func emit(t *testing.T, s *store.Store, tn store.Tenant, sig store.NewSignal) (store.Signal, bool) {
	t.Helper()
	var out store.Signal
	var created bool
	err := s.Tx(context.Background(), func(tx *sqlx.Tx) error {
		var err error
		out, created, err = s.EmitSignal(context.Background(), tx, tn, sig)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, created
}

func testSignal(name string) store.NewSignal {
	return store.NewSignal{Name: name, Source: "test", Actor: store.SystemActor("test"),
		Subject: store.Subject{Type: "thing", ID: "1"}, Payload: map[string]any{"n": 1}}
}

func TestEmitSignalValidates(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	tn, _ := newTenant(t, s)
	for _, bad := range []store.NewSignal{
		{Name: "NoDots", Source: "test"},
		{Name: "forum.thread.created"},
		{Name: "forum.thread.created", Source: "test", Actor: store.Actor{Type: "user"}},
	} {
		err := s.Tx(context.Background(), func(tx *sqlx.Tx) error {
			_, _, err := s.EmitSignal(context.Background(), tx, tn, bad)
			return err
		})
		var v *store.ValidationError
		if !errors.As(err, &v) {
			t.Errorf("%+v: got %v, want a validation error", bad, err)
		}
	}
}

func TestEmitSignalRolledBackLeavesNothing(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	tn, _ := newTenant(t, s)
	tx := s.DB.MustBegin()
	sig, created, err := s.EmitSignal(ctx, tx, tn, testSignal("test.rolled_back"))
	if err != nil || !created {
		t.Fatal(created, err)
	}
	tx.Rollback()
	if _, err := s.SignalBySeq(ctx, tn, sig.Seq); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("rolled-back signal readable: %v", err)
	}
	var n int
	s.DB.Get(&n, `SELECT count(*) FROM jobs WHERE tenant_schema = $1`, tn.Schema())
	if n != 0 {
		t.Fatalf("a rolled-back emit left %d jobs", n)
	}
}

func TestEmitSignalDedupeUnderConcurrentEmits(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	tn, _ := newTenant(t, s)
	sig := testSignal("test.deduped")
	sig.DedupeKey = "once"
	const n = 12
	var wg sync.WaitGroup
	var createdCount atomic.Int32
	seqs := make([]int64, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Tx(context.Background(), func(tx *sqlx.Tx) error {
				got, created, err := s.EmitSignal(context.Background(), tx, tn, sig)
				seqs[i] = got.Seq
				if created {
					createdCount.Add(1)
				}
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if createdCount.Load() != 1 {
		t.Fatalf("%d emits created the signal, want 1", createdCount.Load())
	}
	for _, q := range seqs {
		if q != seqs[0] {
			t.Fatalf("emits returned different signals: %v", seqs)
		}
	}
	var signals, queued int
	s.DB.Get(&signals, `SELECT count(*) FROM `+pq.QuoteIdentifier(tn.Schema())+`.signals WHERE dedupe_key = 'once'`)
	// A signal costs its row and its NOTIFY: subscribers read the log
	// from their cursors, so emitting queues no job.
	s.DB.Get(&queued, `SELECT count(*) FROM jobs WHERE tenant_schema = $1`, tn.Schema())
	if signals != 1 || queued != 0 {
		t.Fatalf("%d signals and %d jobs, want 1 and 0", signals, queued)
	}
}

// A reader resuming "after the last seq it saw" must never skip a signal
// that commits later with a smaller seq.
func TestSignalSeqIsInCommitOrder(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	tn, _ := newTenant(t, s)
	const writers, each = 6, 30
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				err := s.Tx(ctx, func(tx *sqlx.Tx) error {
					if _, _, err := s.EmitSignal(ctx, tx, tn, testSignal("test.ordered")); err != nil {
						return err
					}
					// Work after the emit widens the window in which an
					// unserialised transaction would commit out of order.
					_, err := tx.ExecContext(ctx, `SELECT pg_sleep(0.001)`)
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	writersDone := make(chan struct{})
	go func() { wg.Wait(); close(writersDone) }()
	var seen []int64
	var cursor int64
	for done := false; !done; {
		select {
		case <-writersDone:
			done = true
		default:
		}
		page, err := s.SignalsAfter(ctx, tn, cursor, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, sig := range page {
			seen = append(seen, sig.Seq)
			cursor = sig.Seq
		}
	}
	for { // drain after the writers finished
		page, _ := s.SignalsAfter(ctx, tn, cursor, 100)
		if len(page) == 0 {
			break
		}
		for _, sig := range page {
			seen = append(seen, sig.Seq)
			cursor = sig.Seq
		}
	}
	var all []int64
	s.DB.Select(&all, `SELECT seq FROM `+pq.QuoteIdentifier(tn.Schema())+`.signals ORDER BY seq`)
	if len(all) != writers*each || fmt.Sprint(seen) != fmt.Sprint(all) {
		t.Fatalf("reader saw %d signals, table has %d (want %d): a resuming reader skipped some", len(seen), len(all), writers*each)
	}
}

func TestSignalNotifiedAfterCommit(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	tn, _ := newTenant(t, s)
	l := pq.NewListener(storetest.DSN(), 10*time.Millisecond, time.Second, nil)
	defer l.Close()
	if err := l.Listen(store.SignalNotifyChannel); err != nil {
		t.Fatal(err)
	}
	// Listen returns once LISTEN ran; anything committed from now on is heard.
	sig, _ := emit(t, s, tn, testSignal("test.notified"))
	timeout := time.After(10 * time.Second)
	for {
		select {
		case n := <-l.Notify:
			if n == nil {
				continue
			}
			schema, seq, err := store.ParseSignalNotification(n.Extra)
			if err != nil {
				t.Fatal(err)
			}
			if schema == tn.Schema() && seq == sig.Seq {
				return
			}
		case <-timeout:
			t.Fatal("no notification for the committed signal")
		}
	}
}

func TestSignalQueries(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	tn, _ := newTenant(t, s)
	var seqs []int64
	for i := 0; i < 7; i++ {
		sig := testSignal("test.query.a")
		if i%2 == 1 {
			sig.Name = "test.other"
		}
		sig.Subject = store.Subject{Type: "thread", ID: fmt.Sprint(i % 3)}
		got, _ := emit(t, s, tn, sig)
		seqs = append(seqs, got.Seq)
	}
	latest, err := s.LatestSignals(ctx, tn, 2)
	if err != nil || len(latest) != 2 || latest[0].Seq != seqs[6] || latest[1].Seq != seqs[5] {
		t.Fatalf("latest: %v %v", latest, err)
	}
	after, _ := s.SignalsAfter(ctx, tn, seqs[4], 10)
	if len(after) != 2 || after[0].Seq != seqs[5] {
		t.Fatalf("after: %v", after)
	}
	bySubject, _ := s.SignalsBySubjects(ctx, tn, []store.Subject{{Type: "thread", ID: "0"}, {Type: "thread", ID: "2"}}, 100)
	var got []int64
	for _, sig := range bySubject {
		got = append(got, sig.Seq)
	}
	if fmt.Sprint(got) != fmt.Sprint([]int64{seqs[0], seqs[2], seqs[3], seqs[5], seqs[6]}) {
		t.Fatalf("by subject, oldest first: %v", got)
	}
	// Paging by name prefix, newest first.
	var paged []int64
	f := store.SignalFilter{Name: "test.query.*", Limit: 3}
	for {
		page, err := s.ListSignals(ctx, tn, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, sig := range page.Signals {
			paged = append(paged, sig.Seq)
		}
		if page.Next == 0 {
			break
		}
		f.Before = page.Next
	}
	want := []int64{seqs[6], seqs[4], seqs[2], seqs[0]}
	if fmt.Sprint(paged) != fmt.Sprint(want) {
		t.Fatalf("paged: %v, want %v", paged, want)
	}
	if !sort.SliceIsSorted(paged, func(i, j int) bool { return paged[i] > paged[j] }) {
		t.Fatal("pages not newest first")
	}
}
