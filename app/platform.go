package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"fleetprompt/jobs"
	"fleetprompt/store"
)

// platform is the background half of FleetPrompt: the signal bus, the
// directive registry, the job runner that executes both, and cron.
type platform struct {
	bus    *store.SignalBus
	dirs   *store.Directives
	runner *jobs.Runner
	cron   *jobs.Cron // nil in a worker-only process
}

// newPlatform wires every job kind, signal handler and directive executor.
// Registration happens here, in one place, before anything starts.
func newPlatform(st *store.Store, dsn string, cfg Config, withCron bool, log *slog.Logger) (*platform, error) {
	p := &platform{
		bus:  store.NewSignalBus(st, log),
		dirs: store.NewDirectives(st, log),
	}
	store.RegisterForumDirectives(p.dirs)
	store.RegisterChatDirectives(p.dirs)
	store.RegisterMarketplaceDirectives(p.dirs)

	p.runner = jobs.New(st.DB, jobs.Config{DSN: dsn, MaxWorkers: cfg.Workers, Logger: log})
	p.bus.RegisterJobs(p.runner)
	p.dirs.RegisterJobs(p.runner)
	p.runner.Handle(jobs.KindDeleteSessions, jobs.CleanupHandler("expired sessions", st.DeleteExpiredSessions, log))
	p.runner.Handle(store.LoginFailuresPruneJob, jobs.CleanupHandler("forgotten sign-in failures", st.PruneLoginFailures, log))

	if withCron {
		pruneLogins := jobs.CronTask{Name: "prune_login_failures", Schedule: "@every 1h", Job: jobs.Params{Kind: store.LoginFailuresPruneJob, MaxAttempts: 3}}
		c, err := jobs.NewCron(st.DB, jobs.CronConfig{Logger: log, Extra: []jobs.CronTask{pruneLogins}})
		if err != nil {
			return nil, err
		}
		p.cron = c
	}
	return p, nil
}

func (p *platform) start(ctx context.Context) error {
	if err := p.runner.Start(ctx); err != nil {
		return err
	}
	if p.cron != nil {
		return p.cron.Start(ctx)
	}
	return nil
}

// stop ends cron first (nothing new is enqueued), then lets in-flight jobs
// finish for up to grace before releasing them to another worker.
func (p *platform) stop(log *slog.Logger, grace time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if p.cron != nil {
		if err := p.cron.Stop(ctx); err != nil {
			log.Warn("cron stop", "err", err)
		}
	}
	if err := p.runner.Stop(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Warn("job runner stop", "err", err)
	}
}
