package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// lighthouseAll runs Lighthouse's accessibility category on every plain
// page that answers 2xx (states reached by an action cannot be loaded by
// URL, and Lighthouse refuses to audit an error status), with the
// session's cookie and the same Chromium. A run that fails is reported
// and left out of the figure, not fatal.
func lighthouseAll(b *browser, c config, pages []*page) error {
	cookie, err := b.cookieHeader(c.url)
	if err != nil {
		return err
	}
	cli := filepath.Join(c.tools, "node_modules/lighthouse/cli/index.js")
	for _, p := range pages {
		if p.State != "" || p.Status >= 300 {
			p.LH = -1
			continue
		}
		args := []string{cli, c.url + p.Path, "--only-categories=accessibility", "--output=json", "--quiet",
			"--chrome-flags=--headless=new --no-sandbox --disable-gpu", "--form-factor=desktop", "--screenEmulation.disabled"}
		if !p.Anon {
			h, _ := json.Marshal(map[string]string{"Cookie": cookie})
			args = append(args, "--extra-headers="+string(h))
		}
		cmd := exec.Command("node", args...)
		cmd.Env = append(os.Environ(), "CHROME_PATH="+b.path)
		out, err := cmd.Output()
		if err != nil {
			p.LH = -1
			fmt.Printf("lighthouse %-46s failed: %v\n", label(p), err)
			continue
		}
		var rep struct {
			Categories struct {
				Accessibility struct{ Score float64 } `json:"accessibility"`
			} `json:"categories"`
			Audits map[string]struct {
				Score            *float64 `json:"score"`
				ScoreDisplayMode string   `json:"scoreDisplayMode"`
			} `json:"audits"`
		}
		if err := json.Unmarshal(out, &rep); err != nil {
			return fmt.Errorf("lighthouse %s: %w", p.Path, err)
		}
		p.LH = rep.Categories.Accessibility.Score * 100
		for id, a := range rep.Audits {
			if a.ScoreDisplayMode == "binary" && a.Score != nil && *a.Score < 1 {
				p.LHFailed = append(p.LHFailed, id)
			}
		}
		fmt.Printf("lighthouse %-46s %3.0f %v\n", label(p), p.LH, p.LHFailed)
	}
	return nil
}
