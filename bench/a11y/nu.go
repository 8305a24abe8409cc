package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
)

// htmxAttr matches the Nu checker's complaints about htmx's own attributes
// (hx-*, sse-*): HTML has no such attributes, and the issue leaves them out.
var htmxAttr = regexp.MustCompile(`Attribute “(hx-|sse-)[a-z-]+” not allowed`)

// nuCheck runs vnu.jar once over every saved page (one JVM start) and
// files its errors under their pages.
func nuCheck(tools, dir string, pages []*page) error {
	jar := filepath.Join(tools, "node_modules/vnu-jar/build/dist/vnu.jar")
	cmd := exec.Command("java", "-jar", jar, "--errors-only", "--format", "json", dir)
	var out bytes.Buffer
	cmd.Stderr = &out // vnu writes its report to stderr and exits 1 when it found errors
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			return fmt.Errorf("vnu (needs Java; `make deps-a11y`): %w", err)
		}
	}
	var rep struct {
		Messages []struct {
			Type, URL, Message, Extract string
			LastLine                    int
		}
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		return fmt.Errorf("vnu report: %w: %.300s", err, out.String())
	}
	byFile := map[string]*page{}
	for _, p := range pages {
		byFile[filepath.Base(p.File)] = p
	}
	for _, m := range rep.Messages {
		if m.Type != "error" {
			continue
		}
		u, _ := url.Parse(m.URL)
		p := byFile[filepath.Base(u.Path)]
		if p == nil {
			continue
		}
		if htmxAttr.MatchString(m.Message) {
			p.NuHtmx++
			continue
		}
		p.Nu = append(p.Nu, fmt.Sprintf("line %d: %s", m.LastLine, m.Message))
	}
	return nil
}
