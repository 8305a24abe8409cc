package handlers

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// marketplace lists published packages: search q and filters category,
// pricing and tier come from the query string, so every view is a URL.
// htmx requests (the search form) get the results block only.
func (h *Handler) marketplace(c *gin.Context) error {
	ctx := c.Request.Context()
	a := authOf(c)
	f := store.PackageFilter{Q: c.Query("q"), Category: c.Query("category"), Pricing: c.Query("pricing"), Tier: c.Query("tier")}
	asked := f
	f.Normalize()
	// The seq first: an install finishing while the page renders is at
	// worst sent again, never missed.
	seq, err := h.store.LatestSignalSeq(ctx, tenant(c))
	if err != nil {
		return err
	}
	results, err := h.store.ListPackages(ctx, f)
	if err != nil {
		return err
	}
	featured, err := h.store.FeaturedPackages(ctx)
	if err != nil {
		return err
	}
	states, err := h.store.InstallStates(ctx, tenant(c))
	if err != nil {
		return err
	}
	returnTo := c.Request.URL.RequestURI()
	d := marketplaceData{
		Filter: f, Filtered: f != (store.PackageFilter{}),
		Categories: store.PackageCategories, Pricing: store.PricingModels, Tiers: store.Tiers,
		CanManage: a.Member.IsAdmin(), OrgTier: a.Member.OrgTier, Live: liveInstalls{Seq: seq, Events: installLiveEvents},
		Problems: filterProblems(asked, f),
	}
	card := func(p store.Package) packageCard {
		st := states[p.Slug]
		st.Slug = p.Slug
		return packageCard{Package: p, Status: installStatusOf(p, st, d.CanManage, returnTo)}
	}
	for _, p := range featured {
		d.Featured = append(d.Featured, card(p))
	}
	for _, p := range results {
		d.Results = append(d.Results, card(p))
	}
	status := http.StatusOK
	if d.Problems != nil {
		status = http.StatusUnprocessableEntity
	}
	return h.render(c, status, "marketplace", "marketplace_results", h.page(c, "Marketplace", d))
}

// filterProblems says which filters of the URL the catalogue does not
// know (?category=bogus), instead of silently showing every package.
func filterProblems(asked, used store.PackageFilter) []string {
	var out []string
	check := func(name, value, kept string, known []string) {
		if value != "" && kept == "" {
			out = append(out, fmt.Sprintf("%q is not a %s (one of %s), so it was left out.", value, name, strings.Join(known, ", ")))
		}
	}
	check("category", asked.Category, used.Category, store.PackageCategories)
	check("pricing model", asked.Pricing, used.Pricing, store.PricingModels)
	check("tier", asked.Tier, used.Tier, store.Tiers)
	return out
}
