package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"fleetprompt/jobs"
	"fleetprompt/jobs/activity"
	"fleetprompt/jobs/agent"
	"fleetprompt/jobs/agent/llm"
	"fleetprompt/jobs/directive"
	"fleetprompt/jobs/executor"
	"fleetprompt/jobs/forumagent"
	"fleetprompt/jobs/notify"
	"fleetprompt/jobs/signal"
	"fleetprompt/jobs/webhook"
	"fleetprompt/jobs/workflow"
	"fleetprompt/store"
)

// platform is the background half of FleetPrompt: the engines (directives,
// signal subscribers), the job runner that carries their work, and cron.
type platform struct {
	forum     *forumagent.Forum
	dirs      *directive.Engine
	bus       *signal.Bus
	agents    *agent.Engine
	workflows *workflow.Engine
	hooks     *webhook.Engine
	runner    *jobs.Runner
	// deliveries runs webhook attempts alone: one may wait 10 s on a slow
	// receiver, which must not hold up directives.
	deliveries *jobs.Runner
	cron       *jobs.Cron // nil in a worker-only process
	// output carries executions' output to the other processes' pages;
	// origin names this process in it.
	output *agent.NotifyStream
	origin string
}

// directiveKinds is the table of directive kinds: what can be requested,
// by whom, and what runs it. Adding a kind is an entry in its area's list
// plus its RunFunc.
func directiveKinds(st *store.Store, p *platform) []directive.Kind {
	var kinds []directive.Kind
	kinds = append(kinds, executor.Marketplace(st)...)
	kinds = append(kinds, executor.Forum(st)...)
	kinds = append(kinds, p.agents.Kinds()...)    // agent.execute, agent.deploy
	kinds = append(kinds, p.workflows.Kinds()...) // workflow.run.start
	kinds = append(kinds, p.forum.Kinds()...)     // forum.agent.reply
	return kinds
}

// subscribers are the signal subscribers, in one list.
func subscribers(st *store.Store, p *platform) []signal.Subscriber {
	subs := []signal.Subscriber{
		activity.Subscriber(st), // daily counts for the dashboard
		p.hooks.Subscriber(),    // webhook deliveries
		notify.Subscriber(st),   // people's notifications (the inbox, the header's badge)
	}
	subs = append(subs, p.workflows.Subscribers()...) // triggers, directive steps' outcomes
	return append(subs, p.forum.Subscribers()...)     // @mentions of agents
}

// webhookWorkers is how many webhook attempts a process makes at once:
// they mostly wait on the network.
const webhookWorkers = 64

// newPlatform wires every engine, kind, subscriber and job kind.
// Registration happens here, in one place, before anything starts.
func newPlatform(st *store.Store, dsn string, cfg Config, withCron bool, log *slog.Logger) (*platform, error) {
	p := &platform{origin: instanceID()}
	p.output = agent.NewNotifyStream(st.DB, p.origin, log)
	p.agents = agent.New(agent.Config{Store: st, LLM: modelProvider(cfg, log), Secrets: []string{cfg.LLM.APIKey},
		Prices: cfg.Prices, Stream: p.output, Logger: log})
	p.workflows = workflow.New(st, func() *directive.Engine { return p.dirs }, log)
	p.forum = forumagent.New(st)
	p.hooks = webhook.New(webhook.Config{Store: st, AllowPrivate: cfg.WebhookAllowPrivate, Logger: log})
	p.agents.Handle(p.workflows.Purpose()) // agent steps' runs
	p.agents.Handle(p.forum.Purpose())     // answers in the forums
	p.dirs = directive.New(st, log, directiveKinds(st, p)...)
	p.bus = signal.New(signal.Config{Store: st, DSN: dsn, Logger: log})
	for _, s := range subscribers(st, p) {
		p.bus.Subscribe(s)
	}

	p.runner = jobs.New(st.DB, jobs.Config{DSN: dsn, MaxWorkers: cfg.Workers, Logger: log})
	p.dirs.RegisterJobs(p.runner)
	p.workflows.RegisterJobs(p.runner)
	p.runner.Handle(jobs.KindReplaySignals, p.bus.CatchUpJob)
	p.runner.Handle(jobs.KindDeleteSessions, jobs.CleanupHandler("expired sessions", st.DeleteExpiredSessions, log))
	p.runner.Handle(store.LoginFailuresPruneJob, jobs.CleanupHandler("forgotten sign-in failures", st.PruneLoginFailures, log))
	p.runner.Handle(store.APIIdempotencyPruneJob, jobs.CleanupHandler("expired idempotency records", st.PruneAPIIdempotency, log))
	p.deliveries = jobs.New(st.DB, jobs.Config{DSN: dsn, MaxWorkers: webhookWorkers, Logger: log})
	p.hooks.RegisterJobs(p.deliveries)

	if withCron {
		pruneLogins := jobs.CronTask{Name: "prune_login_failures", Schedule: "@every 1h", Job: jobs.Params{Kind: store.LoginFailuresPruneJob, MaxAttempts: 3}}
		pruneIdempotency := jobs.CronTask{Name: "prune_api_idempotency", Schedule: "@every 1h", Job: jobs.Params{Kind: store.APIIdempotencyPruneJob, MaxAttempts: 3}}
		c, err := jobs.NewCron(st.DB, jobs.CronConfig{Logger: log, Extra: []jobs.CronTask{pruneLogins, pruneIdempotency}})
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
	if err := p.deliveries.Start(ctx); err != nil {
		return err
	}
	if err := p.bus.Start(ctx); err != nil {
		return err
	}
	if p.cron != nil {
		return p.cron.Start(ctx)
	}
	return nil
}

// stop ends cron first (nothing new is enqueued), then the subscribers,
// then lets in-flight jobs finish for up to grace before releasing them
// to another worker.
func (p *platform) stop(log *slog.Logger, grace time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if p.cron != nil {
		if err := p.cron.Stop(ctx); err != nil {
			log.Warn("cron stop", "err", err)
		}
	}
	if err := p.bus.Stop(ctx); err != nil {
		log.Warn("signal subscribers stop", "err", err)
	}
	for _, r := range []*jobs.Runner{p.runner, p.deliveries} {
		if err := r.Stop(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			log.Warn("job runner stop", "err", err)
		}
	}
	p.output.Close()
}

// modelProvider is the configured model provider, or nil for the
// built-in responder.
func modelProvider(cfg Config, log *slog.Logger) *llm.Client {
	if cfg.LLM.BaseURL == "" {
		log.Info("agents: no LLM_BASE_URL, answering with the built-in responder (from the forum)")
		return nil
	}
	log.Info("agents: model provider configured", "base_url", cfg.LLM.BaseURL, "model", cfg.LLM.Model)
	return llm.New(cfg.LLM)
}

// instanceID names this process among the ones sharing the database.
func instanceID() string {
	host, _ := os.Hostname()
	b := make([]byte, 3)
	rand.Read(b)
	return fmt.Sprintf("%s:%d:%x", host, os.Getpid(), b)
}
