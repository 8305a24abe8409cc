package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"fleetprompt/jobs/signal"
	"fleetprompt/store"
)

// replay delivers to the signal subscribers what they have not had (the
// signals they gave up on, and whatever their cursors have not reached),
// or with -force everything selected again:
//
//	fleetprompt replay [-tenant slug] [-name forum.*] [-since 2026-01-02T15:04:05Z] [-until …] [-subscriber name] [-force]
func replay(ctx context.Context, st *store.Store, bus *signal.Bus, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("fleetprompt replay", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	slug := fs.String("tenant", "", "organization slug (default: every organization)")
	name := fs.String("name", "", "signal name, or a prefix ending in .*")
	since := fs.String("since", "", "occurred at or after (RFC 3339)")
	until := fs.String("until", "", "occurred before (RFC 3339)")
	subscriber := fs.String("subscriber", "", "only this subscriber (default: every one)")
	force := fs.Bool("force", false, "re-deliver even to subscribers that had the signal")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	f := signal.ReplayFilter{Name: *name, Force: *force, Subscriber: *subscriber}
	for _, tv := range []struct {
		s   string
		dst *time.Time
	}{{*since, &f.Since}, {*until, &f.Until}} {
		if tv.s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, tv.s)
		if err != nil {
			return fmt.Errorf("replay: %q is not an RFC 3339 time: %w", tv.s, err)
		}
		*tv.dst = t
	}
	if *slug != "" {
		org, err := st.OrganizationBySlug(ctx, *slug)
		if err != nil {
			return fmt.Errorf("replay: organization %q: %w", *slug, err)
		}
		t := org.Tenant()
		f.Tenant = &t
	}
	rep, err := bus.Replay(ctx, f)
	if err != nil {
		return err
	}
	log.Info("replay done", "tenants", rep.Tenants, "signals", rep.Signals, "delivered", rep.Delivered, "failed", rep.Failed)
	fmt.Printf("replay: %d tenants, %d signals selected, %d delivered, %d failed again\n", rep.Tenants, rep.Signals, rep.Delivered, rep.Failed)
	return nil
}
