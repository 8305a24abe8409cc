package store

import (
	"strings"
	"testing"
	"time"
)

// The periods follow one another back in time without a gap or an
// overlap, each month's lexeme in the period its dates cover, across a
// new year; the rest is everything outside them.
func TestSearchPeriodsTileTheMonths(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, time.January, 31, 23, 59, 0, 0, time.FixedZone("ahead", 3*3600)) // 20:59 UTC
	ps := searchPeriods(now)
	if len(ps) != len(searchPeriodMonths) {
		t.Fatalf("%d periods", len(ps))
	}
	if want := time.Date(2027, time.March, 1, 0, 0, 0, 0, time.UTC); !ps[0].to.Equal(want) {
		t.Errorf("first period ends %v, want %v (next month included)", ps[0].to, want)
	}
	if want := "'posted 2027-02' | 'posted 2027-01' | 'posted 2026-12'"; ps[0].months != want {
		t.Errorf("first period's months %q, want %q", ps[0].months, want)
	}
	for i, p := range ps {
		if i > 0 && !p.to.Equal(ps[i-1].from) {
			t.Errorf("period %d ends %v, the one after it starts %v", i, p.to, ps[i-1].from)
		}
		// Every month from..to has its lexeme in the period, and no other.
		var want []string
		for m := p.to.AddDate(0, -1, 0); !m.Before(p.from); m = m.AddDate(0, -1, 0) {
			want = append(want, "'posted "+m.Format("2006-01")+"'")
		}
		if got := strings.Join(want, " | "); p.months != got {
			t.Errorf("period %d [%v, %v): months %q, want %q", i, p.from, p.to, p.months, got)
		}
	}
	if want := time.Date(2024, time.August, 1, 0, 0, 0, 0, time.UTC); !ps[len(ps)-1].from.Equal(want) {
		t.Errorf("last period starts %v, want %v", ps[len(ps)-1].from, want)
	}
	args := searchPeriodParams(now)
	if len(args) != 2*len(ps)+1 || args[len(args)-1] != ps[len(ps)-1].from {
		t.Errorf("params %v", args)
	}
}
