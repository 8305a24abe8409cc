// Package handlers is FleetPrompt's HTTP layer: Gin routes whose handlers
// parse input, call the store, and render a page, a fragment or a redirect.
package handlers

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"time"

	"github.com/gorilla/sessions"

	"fleetprompt/handlers/live"
	"fleetprompt/jobs/agent"
	"fleetprompt/jobs/agent/llm"
	"fleetprompt/jobs/directive"
	"fleetprompt/jobs/signal"
	"fleetprompt/jobs/webhook"
	"fleetprompt/jobs/workflow"
	"fleetprompt/static"
	"fleetprompt/store"
	"fleetprompt/views"
)

// Config holds the handlers' dependencies and settings.
type Config struct {
	Store *store.Store
	// Directives is the directive engine: its table of kinds names what
	// can be requested and how it shows while pending.
	Directives *directive.Engine
	Views      *views.Renderer
	Assets     *static.Assets
	Logger     *slog.Logger
	// SessionSecret signs and encrypts the session cookie.
	SessionSecret []byte
	// SessionTTL is how long an idle session lives (default 14 days).
	SessionTTL time.Duration
	// HealthFunc reports extra health facts (e.g. tenants left behind by a
	// failed migration); nil means none.
	HealthFunc func(ctx context.Context) map[string]any
	// Live serves GET /events and ends a session's streams at sign-out;
	// nil leaves /events a 404 (tests that need no live layer).
	Live *live.Hub
	// Agents is the execution engine (the toolbox for the skills page,
	// cancelling a run in this process); nil in tests that run no agent.
	Agents *agent.Engine
	// Workflows is the workflow engine: the editor's checks, and what an
	// operator does to a run. Nil builds one over Store and Directives
	// (the pages need no more; the workers run the steps).
	Workflows *workflow.Engine
	// Signals replays signals to their subscribers from the admin's
	// signals page; nil makes a replay fail (tests that need none).
	Signals *signal.Bus
	// LLM is the chat's model provider (llm.New from LLM_BASE_URL,
	// LLM_API_KEY, LLM_MODEL); nil or unconfigured, chat answers with its
	// built-in responder. Only whether it is configured matters here: the
	// agent engine (jobs/agent) answers.
	LLM *llm.Client
	// TrustedProxies (IPs, CIDRs) are the peers whose X-Forwarded-For and
	// X-Real-IP name the client; nil trusts none (TRUSTED_PROXIES).
	TrustedProxies []string
	// ThreadCache is what the thread page keeps between requests (the
	// default, ThreadCacheOn: everything; bench/http turns it down).
	ThreadCache ThreadCacheMode
	// Webhooks sends the organization's signals to its webhook endpoints;
	// the admin's webhook pages check URLs with it. nil: a 503 there.
	Webhooks *webhook.Engine
	// APIRateLimit is how many requests an API key may make per
	// APIRateWindow (default 600 a minute), across every process.
	APIRateLimit  int
	APIRateWindow time.Duration
	// ForumPostLimit caps each person's threads and replies (zero:
	// store.DefaultPostLimit; Posts < 0: no limit, for benchmarks).
	ForumPostLimit store.PostLimit
}

// Handler serves every route.
type Handler struct {
	store    *store.Store
	dirs     *directive.Engine
	views    *views.Renderer
	assets   *static.Assets
	log      *slog.Logger
	cookies  *sessions.CookieStore
	ttl      time.Duration
	proxyIPs []string // TrustedProxies
	health   func(ctx context.Context) map[string]any
	live     *live.Hub
	signals  *signal.Bus
	engine   *agent.Engine
	flows    *workflow.Engine
	// llmOn says a model provider is configured (else the built-in
	// responder answers, and the chat page says so).
	llmOn bool
	// sessions is the session cache, nil without a live hub
	// (session_cache.go); threads the thread page's, nil when off
	// (thread_cache.go).
	sessions *sessionCache
	threads  *threadPages
	// hooks, apiLimit and apiWindow are Config's Webhooks, APIRateLimit
	// and APIRateWindow.
	hooks     *webhook.Engine
	apiLimit  int
	apiWindow time.Duration
	// postLimit is Config.ForumPostLimit (forum_rate.go).
	postLimit store.PostLimit
	// inboxes is the header's unread counts, nil without a live hub
	// (inbox_cache.go).
	inboxes *inboxCache
	// cookieValues is the decoded session cookies (session_cookie.go).
	cookieValues *cookieCache
}

// New builds the handlers.
func New(cfg Config) *Handler {
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 14 * 24 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.APIRateLimit <= 0 {
		cfg.APIRateLimit = defaultAPIRateLimit
	}
	if cfg.APIRateWindow < time.Second {
		cfg.APIRateWindow = defaultAPIRateWindow
	}
	// Separate keys for signing and encryption, derived from one secret.
	hashKey := sha256.Sum256(append([]byte("fleetprompt-cookie-hash:"), cfg.SessionSecret...))
	blockKey := sha256.Sum256(append([]byte("fleetprompt-cookie-block:"), cfg.SessionSecret...))
	cs := sessions.NewCookieStore(hashKey[:], blockKey[:])
	cs.MaxAge(int(cfg.SessionTTL.Seconds()))
	h := &Handler{
		store:    cfg.Store,
		dirs:     cfg.Directives,
		views:    cfg.Views,
		assets:   cfg.Assets,
		log:      cfg.Logger,
		cookies:  cs,
		ttl:      cfg.SessionTTL,
		proxyIPs: cfg.TrustedProxies,
		health:   cfg.HealthFunc,
		live:     cfg.Live,
		signals:  cfg.Signals,
		engine:   cfg.Agents,
		flows:    cfg.Workflows,
		llmOn:    cfg.LLM.Configured(),

		hooks:     cfg.Webhooks,
		apiLimit:  cfg.APIRateLimit,
		apiWindow: cfg.APIRateWindow,
		postLimit: postLimitOf(cfg.ForumPostLimit),

		cookieValues: newCookieCache(),
	}
	if h.flows == nil {
		h.flows = workflow.New(cfg.Store, func() *directive.Engine { return cfg.Directives }, cfg.Logger)
	}
	// Pages are kept only when the live hub tells this process of every
	// signal, other processes' included.
	h.threads = newThreadPages(cfg.ThreadCache, cfg.Live != nil, cfg.Store)
	if cfg.Live != nil {
		h.sessions, h.inboxes = newSessionCache(), newInboxCache()
		cfg.Live.Observe(live.Observer{
			Signal: h.threads.signal,
			Control: func(msg string) {
				h.sessions.control(msg)
				h.inboxes.control(msg)
			},
			Lost: func() {
				h.sessions.dropAll()
				h.threads.dropAll()
				h.inboxes.dropAll()
			},
		})
	}
	return h
}
