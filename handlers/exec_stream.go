package handlers

import (
	"strings"
	"sync"

	"fleetprompt/handlers/live"
	"fleetprompt/jobs/agent"
	"fleetprompt/store"
)

// The execution relay shows agents' output on open pages as it is
// written. Output of this process's engine arrives through Publish (no
// database in between); output of other processes (a worker, another
// server) over NOTIFY on agent.StreamChannel. Each execution shows on its
// own page (topic execution:<id>) and where it belongs: a chat answer in
// its conversation, a forum answer in its thread. The text streams as
// ephemeral events (live.Ephemeral): a page that joins mid-answer first
// gets everything so far, then the increments; the finished output
// arrives as a signal and replaces the streamed text.

// ExecRelay is the relay; the app hands it to the agent engine.
type ExecRelay struct {
	h      *Handler
	origin string
	mu     sync.Mutex
	flows  map[string]*execFlow // schema/execution id
}

// execFlow is one execution being written.
type execFlow struct {
	mu    sync.Mutex // the ephemerals' lock: guards text
	t     store.Tenant
	ex    store.Execution
	text  strings.Builder
	views []execView
}

// execView is the execution on one topic: the element its text goes in.
type execView struct {
	eph    *live.Ephemeral
	target string
}

// NewExecRelay builds the relay for this process (origin as the engine's
// NOTIFY stream names it); Listen follows the other processes.
func (h *Handler) NewExecRelay(origin string) *ExecRelay {
	return &ExecRelay{h: h, origin: origin, flows: map[string]*execFlow{}}
}

// Publish takes an event of this process's engine.
func (r *ExecRelay) Publish(ev agent.StreamEvent) {
	if r.h.live == nil {
		return
	}
	r.apply(ev.Tenant, ev.Execution, ev.Kind, ev.Offset, ev.Text)
}
