package handlers

import (
	"fleetprompt/jobs/agent"
	"fleetprompt/store"
)

// apply moves an execution's flow on by one event.
func (r *ExecRelay) apply(t store.Tenant, ex store.Execution, kind string, off int, text string) {
	key := t.Schema() + "/" + ex.ID
	r.mu.Lock()
	f := r.flows[key]
	switch {
	case kind == agent.StreamStart && f == nil:
		f = &execFlow{t: t, ex: ex}
		r.flows[key] = f
		r.mu.Unlock()
		r.open(f)
		return
	case kind == agent.StreamEnd && f != nil:
		delete(r.flows, key)
	}
	r.mu.Unlock()
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch kind {
	case agent.StreamDelta:
		have := f.text.Len()
		if off > have || off+len(text) <= have {
			return // a gap (the finished output will show all) or a repeat
		}
		text = text[have-off:]
		f.text.WriteString(text)
		for _, v := range f.views {
			v.eph.Send("agent.output.delta", appendTextHTML(v.target, text))
		}
	case agent.StreamEnd:
		for _, v := range f.views {
			v.eph.Close()
		}
	}
}

// open starts the execution's flows on each topic it shows on.
func (r *ExecRelay) open(f *execFlow) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, tv := range r.topics(f.t, f.ex) {
		tv := tv
		v := execView{target: tv.target}
		v.eph = r.h.live.Ephemeral(f.t, tv.topic, &f.mu, "agent.output.snapshot", func() []byte {
			return tv.catchUp(f.text.String())
		})
		v.eph.SendAll("agent.output.started", tv.catchUp(f.text.String()))
		f.views = append(f.views, v)
	}
}
