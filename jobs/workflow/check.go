package workflow

import (
	"context"
	"errors"
	"strings"

	"fleetprompt/store"
)

// Check validates what a definition refers to in the organization: the
// agents of agent steps (by @handle) and the directive kinds of directive
// steps. Like Parse, a problem is a 422 naming the step.
func (e *Engine) Check(ctx context.Context, t store.Tenant, d Definition) error {
	for _, s := range d.Steps {
		switch s.Kind() {
		case KindAgent:
			_, err := e.st.AgentByHandle(ctx, e.st.DB, t, strings.TrimPrefix(s.Agent, "@"))
			if errors.Is(err, store.ErrNotFound) {
				return invalid("step %q: there is no agent @%s in this organization", s.ID, strings.TrimPrefix(s.Agent, "@"))
			} else if err != nil {
				return err
			}
		case KindDirective:
			if _, ok := e.dirs().Kind(s.Directive); !ok {
				return invalid("step %q: %q is not a directive kind", s.ID, s.Directive)
			}
			if s.Directive == DirectiveRunStart {
				return invalid("step %q: a workflow cannot start runs by hand", s.ID)
			}
		}
	}
	return nil
}

// ParseAndCheck is Parse, then Check.
func (e *Engine) ParseAndCheck(ctx context.Context, t store.Tenant, raw string) (Definition, error) {
	d, err := Parse(raw)
	if err != nil {
		return d, err
	}
	return d, e.Check(ctx, t, d)
}
