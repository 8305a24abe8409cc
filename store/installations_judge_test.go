package store

import (
	"database/sql"
	"strings"
	"testing"
)

// judgeInstall is the whole install decision; the facts come from one
// query (readInstallFacts), exercised by the install tests.
func TestJudgeInstall(t *testing.T) {
	t.Parallel()
	pkg := func(minTier string) Package {
		return Package{Name: "P", Slug: "p", Version: "1.0.0", MinTier: minTier, IsPublished: true}
	}
	for _, tc := range []struct {
		name   string
		p      Package
		f      installFacts
		refuse string // "" = allowed
	}{
		{"free on free", pkg("free"), installFacts{Tier: "free", Adding: 3}, ""},
		{"pro needs pro", pkg("pro"), installFacts{Tier: "free", Adding: 1}, "needs the pro tier"},
		{"pro on enterprise", pkg("pro"), installFacts{Tier: "enterprise", Adding: 1}, ""},
		{"enterprise on pro", pkg("enterprise"), installFacts{Tier: "pro"}, "needs the enterprise tier"},
		{"unknown tier unlocks nothing", pkg("free"), installFacts{Tier: "gold"}, "needs the free tier"},
		{"exactly the limit", pkg("free"), installFacts{Tier: "free", Have: 1, Adding: 2}, ""},
		{"over the limit", pkg("free"), installFacts{Tier: "free", Have: 3, Adding: 3}, "limit of 3 agents"},
		{"nothing new is never over", pkg("free"), installFacts{Tier: "free", Have: 7, Adding: 0, Prev: sql.NullString{String: "installed", Valid: true}}, ""},
		{"pro limit", pkg("free"), installFacts{Tier: "pro", Have: 998, Adding: 2}, "limit of 999 agents"},
		{"unpublished", Package{Name: "P", Version: "1", MinTier: "free"}, installFacts{Tier: "pro"}, "not published"},
		{"no version", Package{Name: "P", MinTier: "free", IsPublished: true}, installFacts{Tier: "pro"}, "no version"},
	} {
		err := judgeInstall(tc.p, tc.f)
		switch {
		case tc.refuse == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.refuse != "" && (err == nil || !strings.Contains(err.(*ValidationError).Fields[""], tc.refuse)):
			t.Errorf("%s: got %v, want a refusal saying %q", tc.name, err, tc.refuse)
		}
	}
}
