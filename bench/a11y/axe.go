package main

import (
	"context"
)

// violation is one axe rule a page breaks.
type violation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  int    `json:"nodes"`
	Target string `json:"target"`
}

// axeRun runs the WCAG 2.0–2.2 A and AA rules and axe's best practices
// (heading order, landmarks, empty table headers are among those).
const axeRun = `axe.run(document, {
  runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
  resultTypes: ["violations"]
}).then(r => r.violations.map(v => ({
  id: v.id, impact: v.impact || "", help: v.help, nodes: v.nodes.length,
  target: v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", ")
})))`

func runAxe(ctx context.Context, axeJS string) ([]violation, error) {
	if _, err := eval[bool](ctx, "(function(){"+axeJS+"\n;return Promise.resolve(true)})()"); err != nil {
		return nil, err
	}
	return eval[[]violation](ctx, axeRun)
}

func (p *page) serious() int {
	n := 0
	for _, v := range p.Axe {
		if v.Impact == "serious" || v.Impact == "critical" {
			n++
		}
	}
	return n
}
