package agent

import (
	"fmt"
	"strconv"
	"strings"
)

// Price is what a model costs, in US dollars per million tokens.
type Price struct{ Input, Output float64 }

// Prices maps model names to their price; a model without one is free
// (the default: self-hosted models cost nothing per token).
type Prices map[string]Price

// ParsePrices reads LLM_PRICES: "model=input/output,model=input/output",
// dollars per million tokens, e.g. "gpt-4o-mini=0.15/0.60,gpt-4o=2.5/10".
func ParsePrices(s string) (Prices, error) {
	p := Prices{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		model, rates, ok := strings.Cut(part, "=")
		in, out, ok2 := strings.Cut(rates, "/")
		i, err1 := strconv.ParseFloat(strings.TrimSpace(in), 64)
		o, err2 := strconv.ParseFloat(strings.TrimSpace(out), 64)
		if !ok || !ok2 || err1 != nil || err2 != nil || i < 0 || o < 0 || strings.TrimSpace(model) == "" {
			return nil, fmt.Errorf("LLM_PRICES: %q is not model=input/output (dollars per million tokens)", part)
		}
		p[strings.TrimSpace(model)] = Price{Input: i, Output: o}
	}
	return p, nil
}

// Cost is what prompt and completion tokens of model cost.
func (p Prices) Cost(model string, prompt, completion int) float64 {
	pr, ok := p[model]
	if !ok {
		return 0
	}
	return (float64(prompt)*pr.Input + float64(completion)*pr.Output) / 1e6
}
