package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"fleetprompt/store"
)

// replay re-enqueues fanout for signals their handlers have not received:
//
//	fleetprompt replay [-tenant slug] [-name forum.*] [-since 2026-01-02T15:04:05Z] [-until …] [-force]
//
// Workers (serve or worker) deliver them.
func replay(ctx context.Context, st *store.Store, bus *store.SignalBus, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("fleetprompt replay", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	slug := fs.String("tenant", "", "organization slug (default: every organization)")
	name := fs.String("name", "", "signal name, or a prefix ending in .*")
	since := fs.String("since", "", "occurred at or after (RFC 3339)")
	until := fs.String("until", "", "occurred before (RFC 3339)")
	force := fs.Bool("force", false, "re-deliver even to handlers that had the signal")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	f := store.ReplayFilter{Name: *name, Force: *force}
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
	log.Info("replay enqueued", "tenants", rep.Tenants, "signals", rep.Signals, "enqueued", rep.Enqueued)
	fmt.Printf("replay: %d tenants, %d signals matched, %d fanout jobs enqueued\n", rep.Tenants, rep.Signals, rep.Enqueued)
	return nil
}
