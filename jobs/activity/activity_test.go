package activity_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs/activity"
	"fleetprompt/jobs/signal"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var ctx = context.Background()

func TestCountsPerDayAndFamilyOnceEvenWhenReplayed(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	tn, _ := storetest.NewTenant(t, s, "act")
	now := time.Now().UTC()
	yesterday := now.AddDate(0, 0, -1)
	emit := func(name string, at time.Time) {
		err := s.Tx(ctx, func(tx *sqlx.Tx) error {
			_, _, err := s.EmitSignal(ctx, tx, tn, store.NewSignal{Name: name, Source: "test", OccurredAt: at})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	emit("forum.post.created", yesterday)
	emit("forum.thread.created", yesterday)
	emit("forum.post.created", now)
	emit("package.installation.installed", now)
	emit("chat.message.completed", now) // private: never counted

	delivered := make(chan struct{}, 100)
	bus := signal.New(signal.Config{Store: s, DSN: storetest.DSN(), Tenants: []string{tn.Schema()}, Logger: storetest.Quiet(),
		OnDeliveredFunc: func(string, string, int64, int) { delivered <- struct{}{} }})
	bus.Subscribe(activity.Subscriber(s))
	if err := bus.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer bus.Stop(ctx)

	want := func(what string) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			days, err := s.Activity(ctx, tn, 30, now)
			if err != nil {
				t.Fatal(err)
			}
			y, d := days[len(days)-2], days[len(days)-1]
			if len(days) == 30 && y.ByFamily["forum"] == 2 && y.Total == 2 &&
				d.ByFamily["forum"] == 1 && d.ByFamily["package"] == 1 && d.ByFamily["chat"] == 0 && d.Total == 2 {
				return
			}
			select {
			case <-delivered:
			case <-time.After(50 * time.Millisecond):
			case <-deadline:
				t.Fatalf("%s: yesterday %v, today %v", what, y.ByFamily, d.ByFamily)
			}
		}
	}
	want("delivered")
	// A forced replay of everything counts again from the log: the same.
	rep, err := bus.Replay(ctx, signal.ReplayFilter{Tenant: &tn, Force: true})
	if err != nil || rep.Delivered == 0 {
		t.Fatalf("replay %+v %v", rep, err)
	}
	want("replayed")
}
