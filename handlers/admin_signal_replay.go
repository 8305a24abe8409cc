package handlers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"fleetprompt/jobs/signal"
	"fleetprompt/store"
)

// errNoReplay: the server was started without a signal bus to replay to.
var errNoReplay = errors.New("signal replay is not wired: handlers.Config.Signals is nil")

// adminSignalReplay is POST /admin/signals/replay: seq replays one
// signal; from_seq and to_seq a range (narrowed by the name filter when
// given). Replayed signals are delivered again to every subscriber that
// wants them, even those that had them.
func (h *Handler) adminSignalReplay(c *gin.Context) error {
	return h.adminAct(c, "/admin/signals", h.adminSignals, func(ctx context.Context) (string, error) {
		if h.signals == nil {
			return "", errNoReplay
		}
		t := tenant(c)
		f, err := replayFilter(c, t)
		if err != nil {
			return "", err
		}
		if f.FromSeq == f.ToSeq {
			// One signal: it must be this organization's.
			if _, err := h.store.SignalBySeq(ctx, t, f.FromSeq); err != nil {
				return "", err
			}
		}
		rep, err := h.signals.Replay(ctx, f)
		if err != nil {
			return "", err
		}
		if rep.Signals == 0 {
			return "", store.Invalid("", "No signal matches: nothing was replayed.")
		}
		msg := fmt.Sprintf("Replayed %d signal(s): %d delivered to subscribers.", rep.Signals, rep.Delivered)
		if rep.Failed > 0 {
			msg += fmt.Sprintf(" %d failed again and stay recorded.", rep.Failed)
		}
		return msg, nil
	})
}

func replayFilter(c *gin.Context, t store.Tenant) (signal.ReplayFilter, error) {
	f := signal.ReplayFilter{Tenant: &t, Force: true, Name: strings.TrimSpace(c.PostForm("name"))}
	num := func(field string) int64 {
		n, _ := strconv.ParseInt(strings.TrimSpace(c.PostForm(field)), 10, 64)
		return n
	}
	if seq := c.PostForm("seq"); seq != "" {
		n := num("seq")
		if n <= 0 {
			return f, store.ErrNotFound
		}
		f.FromSeq, f.ToSeq, f.Name = n, n, ""
		return f, nil
	}
	f.FromSeq, f.ToSeq = num("from_seq"), num("to_seq")
	v := &store.ValidationError{}
	if f.FromSeq <= 0 {
		v.Add("from_seq", "Give the first seq of the range to replay (a positive number).")
	}
	if f.ToSeq <= 0 {
		v.Add("to_seq", "Give the last seq of the range to replay (a positive number).")
	}
	if f.FromSeq > 0 && f.ToSeq > 0 && f.FromSeq > f.ToSeq {
		v.Add("to_seq", "The range ends before it starts.")
	}
	return f, v.OrNil()
}
