package main

import (
	"fmt"
	"sort"
)

// report prints every problem found, page by page, then the figures.
func report(pages []*page, lighthouse bool) {
	fmt.Println()
	rules := map[string]int{}
	var serious, nu, htmx, overflowing, broken, audited int
	var maxHeader [2]float64
	minLH := 100.0
	for _, p := range pages {
		for _, v := range p.Axe {
			rules[v.Impact+" "+v.ID]++
			fmt.Printf("axe  %-40s %-9s %-28s %d× %s — %s\n", label(p), v.Impact, v.ID, v.Nodes, v.Target, v.Help)
		}
		for _, m := range p.Nu {
			fmt.Printf("nu   %-40s %s\n", label(p), m)
		}
		if p.Status >= 400 && p.State == "" && !p.Anon {
			broken++
			fmt.Printf("link %-40s answers %d, linked from %s\n", label(p), p.Status, p.From)
		}
		if p.Overflow > 0 {
			overflowing++
			fmt.Printf("wide %-40s %d px wider than a 390-px screen: %s\n", label(p), p.Overflow, p.Wide)
		}
		serious += p.serious()
		nu += len(p.Nu)
		htmx += p.NuHtmx
		for i := range maxHeader {
			maxHeader[i] = max(maxHeader[i], p.Header[i])
		}
		if lighthouse && p.LH >= 0 {
			minLH = min(minLH, p.LH)
			audited++
		}
	}
	var ids []string
	for id := range rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	fmt.Println()
	for _, id := range ids {
		fmt.Printf("rule %-40s on %d pages\n", id, rules[id])
	}
	fmt.Printf("\npages checked: %d\n", len(pages))
	fmt.Printf("axe-core serious or critical violations: %d (target 0)\n", serious)
	fmt.Printf("Nu Html Checker errors: %d (target 0), plus %d about htmx attributes (left out)\n", nu, htmx)
	fmt.Printf("header height: at most %.0f px at 1366 px, %.0f px at 390 px (target ≤ 80)\n", maxHeader[0], maxHeader[1])
	fmt.Printf("pages wider than a 390-px screen: %d (target 0)\n", overflowing)
	fmt.Printf("links that answer 4xx/5xx: %d (target 0)\n", broken)
	if lighthouse {
		fmt.Printf("Lighthouse accessibility: lowest %.0f over %d pages (target ≥ 98; error pages and form states are not audited)\n", minLH, audited)
	}
	fmt.Printf("a11y: pages=%d axe_serious=%d nu_errors=%d nu_htmx=%d header_1366=%.0f header_390=%.0f overflow_390=%d\n",
		len(pages), serious, nu, htmx, maxHeader[0], maxHeader[1], overflowing)
}
