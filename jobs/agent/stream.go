package agent

import "fleetprompt/store"

// Stream carries executions' output to whoever watches them live. The
// engine knows no page: it says what was written, and the live layer
// (wired by the app) decides which streams see it and how it looks.
type Stream interface {
	// Publish must not block for long: it is on the token path.
	Publish(ev StreamEvent)
}

// Stream event kinds.
const (
	StreamStart = "start" // the execution starts writing (its output is empty)
	StreamDelta = "delta" // Text was appended at Offset
	StreamEnd   = "end"   // it stopped writing; its outcome follows as a signal
)

// StreamEvent is one step of an execution's output.
type StreamEvent struct {
	Tenant    store.Tenant
	Execution store.Execution
	Kind      string
	// Offset is where Text goes in the output, in bytes: a watcher that
	// missed a piece can tell, and catch up from the saved output.
	Offset int
	Text   string
}

type discard struct{}

func (discard) Publish(StreamEvent) {}
