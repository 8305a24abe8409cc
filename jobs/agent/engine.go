// Package agent is the one execution engine (SPEC §12): every run of an
// agent (a person's, chat's, a workflow step's, a forum mention's, the
// API's, a deploy's test) is an execution, requested with an agent.execute
// directive and run here by the job runner. A run checks that the agent is
// active and the month's tokens are not used up, asks the provider (an
// OpenAI-compatible API, or the built-in responder that answers from the
// organization's forum), streams the output to whoever watches, runs the
// tools the model calls, and commits the outcome with what the output
// becomes (a post, a chat message, a workflow step's result) in the
// directive's transaction.
package agent

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs/agent/llm"
	"fleetprompt/jobs/directive"
	"fleetprompt/store"
)

// Config tunes the engine; zero values take the defaults.
type Config struct {
	Store *store.Store
	// LLM is the model provider; nil or unconfigured, the built-in
	// responder answers.
	LLM *llm.Client
	// Secrets are strings never to log (the provider's API key).
	Secrets []string
	// Prices give each model's cost per million tokens (default: free).
	Prices Prices
	// Stream carries output to live pages; nil means nobody watches.
	Stream Stream
	// SaveEvery is how often streamed output is written to the row, so a
	// reload shows it, a crash loses little and a cancel is noticed
	// (default 500 ms).
	SaveEvery time.Duration
	// MaxRounds bounds the model's tool use in one run (default 6).
	MaxRounds int
	Logger    *slog.Logger
}

// Engine runs executions.
type Engine struct {
	cfg      Config
	st       *store.Store
	log      *slog.Logger
	purposes map[string]Purpose
	tools    *Toolbox

	mu      sync.Mutex
	running map[string]context.CancelCauseFunc // execution id → cancel, in this process
}

// Purpose is what a kind of execution is for: how its conversation with
// the provider starts and what its output becomes. The engine knows the
// plain ones; chat, the forum and workflows register theirs.
type Purpose struct {
	Name string
	// PromptFunc builds the messages after the system prompt (default:
	// the input as the user's message).
	PromptFunc func(ctx context.Context, t store.Tenant, e store.Execution) ([]llm.Message, error)
	// Actions offers the action tools (they only propose; chat).
	Actions bool
	// AnswerFunc, when it returns ok, is the answer and no provider is
	// asked (chat's typed commands): it costs no tokens.
	AnswerFunc func(ctx context.Context, t store.Tenant, e store.Execution) (text string, ok bool, err error)
	// ProgressFunc keeps the text so far where the purpose shows it
	// (chat's message), each time the run saves it.
	ProgressFunc func(ctx context.Context, t store.Tenant, e store.Execution, text string) error
	// FinishFunc writes what the output becomes, in the transaction that
	// records the outcome (optional).
	FinishFunc func(ctx context.Context, tx *sqlx.Tx, t store.Tenant, e store.Execution) error
}

// New builds the engine with the plain purposes (run, test).
func New(cfg Config) *Engine {
	if cfg.SaveEvery <= 0 {
		cfg.SaveEvery = 500 * time.Millisecond
	}
	if cfg.MaxRounds <= 0 {
		cfg.MaxRounds = 6
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Stream == nil {
		cfg.Stream = discard{}
	}
	e := &Engine{cfg: cfg, st: cfg.Store, log: cfg.Logger.With("component", "agents"), purposes: map[string]Purpose{},
		running: map[string]context.CancelCauseFunc{}, tools: NewToolbox(cfg.Store)}
	e.Handle(Purpose{Name: store.PurposeRun})
	e.Handle(Purpose{Name: store.PurposeTest, PromptFunc: testPrompt})
	e.Handle(e.chatPurpose())
	e.tools.AddActions(chatActionTools(), e.proposeChat)
	return e
}

// AddStream adds a watcher of the engine's output (the live pages of
// this process), before the engine runs.
func (e *Engine) AddStream(s Stream) { e.cfg.Stream = Tee{e.cfg.Stream, s} }

// Handle registers (or replaces) a purpose, before the engine runs.
func (e *Engine) Handle(p Purpose) { e.purposes[p.Name] = p }

// Tools is the engine's toolbox (the skills pages list it).
func (e *Engine) Tools() *Toolbox { return e.tools }

// Provider names what answers: the configured provider, or the built-in
// responder.
func (e *Engine) Provider() string {
	if e.cfg.LLM.Configured() {
		return "model provider"
	}
	return "built-in responder"
}

// Kinds are the engine's directive kinds, for the table of kinds.
func (e *Engine) Kinds() []directive.Kind {
	return []directive.Kind{
		{Name: store.DirectiveAgentExecute, Title: "Run an agent", Pending: "Run requested", Role: directive.RoleMember, Work: e.executeWork,
			OnFailure: e.executeFailed},
		{Name: store.DirectiveAgentDeploy, Title: "Deploy an agent", Pending: "Deploy requested", Role: directive.RoleAdmin, Work: e.deployWork},
	}
}

// Cancel stops an execution running in this process at once (the row is
// canceled by the caller; other processes notice at their next save).
func (e *Engine) Cancel(executionID string) {
	e.mu.Lock()
	cancel := e.running[executionID]
	e.mu.Unlock()
	if cancel != nil {
		cancel(errCanceled)
	}
}

func (e *Engine) track(id string, cancel context.CancelCauseFunc) func() {
	e.mu.Lock()
	e.running[id] = cancel
	e.mu.Unlock()
	return func() {
		e.mu.Lock()
		delete(e.running, id)
		e.mu.Unlock()
	}
}
