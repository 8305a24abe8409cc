package app

import (
	"context"
	"log/slog"
	"time"

	"fleetprompt/jobs/agent"
	"fleetprompt/jobs/directive"
	"fleetprompt/jobs/signal"
	"fleetprompt/store"
)

// Platform is the background half exactly as the app builds it (every
// job kind, signal handler, subscriber and directive executor that
// newPlatform registers), for programs that run the real thing in their
// own process: bench/http measures replies with it working. Anything
// registered in newPlatform runs there too, with no change to the bench.
type Platform struct{ p *platform }

// NewPlatform builds the platform with workers job workers and no cron.
func NewPlatform(st *store.Store, dsn string, workers int, log *slog.Logger) (*Platform, error) {
	p, err := newPlatform(st, dsn, Config{Workers: workers}, false, log)
	if err != nil {
		return nil, err
	}
	return &Platform{p: p}, nil
}

// Start starts the job runner and the subscribers.
func (p *Platform) Start(ctx context.Context) error { return p.p.start(ctx) }

// Stop lets jobs under way finish for up to grace, then stops.
func (p *Platform) Stop(log *slog.Logger, grace time.Duration) { p.p.stop(log, grace) }

// Directives is the directive engine, for handlers.Config.
func (p *Platform) Directives() *directive.Engine { return p.p.dirs }

// Signals is the signal bus, for handlers.Config.
func (p *Platform) Signals() *signal.Bus { return p.p.bus }

// Agents is the agent engine, for handlers.Config.
func (p *Platform) Agents() *agent.Engine { return p.p.agents }
