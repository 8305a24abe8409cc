package handlers

import (
	"context"
	"encoding/json"
	"time"

	"github.com/lib/pq"

	"fleetprompt/jobs/agent"
	"fleetprompt/store"
)

// Listen follows the other processes' output until ctx ends; ready, when
// set, is called once it listens.
func (r *ExecRelay) Listen(ctx context.Context, dsn string, ready func()) {
	l := pq.NewListener(dsn, 10*time.Millisecond, 5*time.Second, nil)
	defer l.Close()
	err := l.Listen(agent.StreamChannel)
	if ready != nil {
		ready()
	}
	if err != nil {
		r.h.log.Warn("listen for execution output: only this process's is shown live", "err", err)
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case n := <-l.Notify:
			if n != nil {
				r.notified(ctx, n.Extra)
			}
		}
	}
}

func (r *ExecRelay) notified(ctx context.Context, payload string) {
	var nt agent.StreamNotice
	if json.Unmarshal([]byte(payload), &nt) != nil || nt.Origin == r.origin {
		return
	}
	t, ok := nt.Tenant()
	if !ok {
		return
	}
	r.mu.Lock()
	f := r.flows[t.Schema()+"/"+nt.ExecutionID]
	r.mu.Unlock()
	ex := store.Execution{ID: nt.ExecutionID}
	if f == nil && nt.Kind != agent.StreamEnd {
		// A flow this process did not see start: read where it belongs,
		// and what it had written when the row was last saved.
		var err error
		if ex, err = r.h.store.Execution(ctx, t, nt.ExecutionID); err != nil {
			return
		}
		if nt.Kind == agent.StreamDelta && len(ex.Output) >= nt.Offset {
			r.apply(t, ex, agent.StreamStart, 0, "")
			r.apply(t, ex, agent.StreamDelta, 0, ex.Output[:nt.Offset])
		}
	}
	r.apply(t, ex, nt.Kind, nt.Offset, nt.Text)
}
