package agent

import (
	"context"

	"fleetprompt/jobs/agent/llm"
	"fleetprompt/store"
)

// provider answers one round: the configured OpenAI-compatible API, or
// the built-in responder.
type provider interface {
	Name() string
	Stream(ctx context.Context, req llm.Request, onDelta func(string) error) (llm.Result, error)
}

type remote struct{ c *llm.Client }

func (r remote) Name() string { return "openai-compatible" }

func (r remote) Stream(ctx context.Context, req llm.Request, onDelta func(string) error) (llm.Result, error) {
	return r.c.Stream(ctx, req, onDelta)
}

// provider picks what answers ex.
func (e *Engine) provider(t store.Tenant, ex store.Execution) provider {
	if e.cfg.LLM.Configured() {
		return remote{e.cfg.LLM}
	}
	return &builtin{e: e, t: t, ex: ex}
}
