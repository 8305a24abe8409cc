package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// widths are the two screens the issue names: a 1366-px laptop and a
// 390-px phone.
var widths = [2]int64{1366, 390}

// measure reads the header's height and the horizontal overflow at both
// widths in the JS tab (already on the page), and, with shots, saves a
// screenshot of each width with JavaScript on and, from the other tab, off.
func measure(b *browser, p *page, shots string, n int) error {
	for i, w := range widths {
		if err := step(b.js, viewport(w)); err != nil {
			return err
		}
		h, err := eval[float64](b.js, `Promise.resolve(document.querySelector("header") ? document.querySelector("header").getBoundingClientRect().height : 0)`)
		if err != nil {
			return err
		}
		p.Header[i] = h
		if w == 390 {
			if p.Overflow, err = eval[int](b.js, `Promise.resolve(document.documentElement.scrollWidth - 390)`); err != nil {
				return err
			}
			if p.Overflow > 0 {
				p.Wide, _ = eval[string](b.js, widest)
			}
		}
		if shots != "" {
			if err := shoot(b.js, shots, n, p, w, "js"); err != nil {
				return err
			}
		}
	}
	if shots == "" || p.State != "" {
		return step(b.js, viewport(widths[0]))
	}
	if err := step(b.nojs, chromedp.Navigate(strings.TrimSuffix(currentURL(b.js), "#"))); err != nil {
		return err
	}
	for _, w := range widths {
		if err := step(b.nojs, viewport(w)); err != nil {
			return err
		}
		if err := shoot(b.nojs, shots, n, p, w, "nojs"); err != nil {
			return err
		}
	}
	return step(b.js, viewport(widths[0]))
}

func viewport(w int64) chromedp.Action[chromedp.Void] {
	h := int64(900)
	if w < 500 {
		return chromedp.EmulateViewport(w, 844, chromedp.EmulateScale(1), chromedp.EmulateMobile)
	}
	return chromedp.EmulateViewport(w, h)
}

func currentURL(ctx context.Context) string {
	u, _ := chromedp.Run(ctx, chromedp.Location())
	return u
}

// widest names the outermost elements that stick out of a 390-px screen
// (outside any scrolling box), to say what to fix.
const widest = `Promise.resolve((() => {
  const out = [];
  const scrolls = el => { for (let e = el.parentElement; e; e = e.parentElement) { const o = getComputedStyle(e).overflowX; if (o === "auto" || o === "scroll" || o === "hidden") return true; } return false; };
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.right > 391 && !scrolls(el) && !(el.parentElement && el.parentElement.getBoundingClientRect().right > 391)) {
      out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "") + " " + Math.round(r.right) + "px");
    }
    if (out.length >= 3) break;
  }
  return out.join(", ");
})())`

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// shoot saves the whole page, at most 4 screens tall, as PNG.
func shoot(ctx context.Context, dir string, n int, p *page, w int64, mode string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	name := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(label(p)), "-"), "-")
	if len(name) > 60 {
		name = name[:60]
	}
	png, err := chromedp.Run(ctx, clipped())
	if err != nil {
		return err
	}
	file := filepath.Join(dir, fmt.Sprintf("%03d-%s-%d-%s.png", n, name, w, mode))
	return os.WriteFile(file, png, 0o644)
}

// clipped captures the page from its top, at most four screens tall: a
// long thread or signal list needs no twenty-screen picture to judge.
func clipped() chromedp.Action[[]byte] {
	return func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		m, err := cdp.Call(ctx, t, cdppage.GetLayoutMetrics, cdp.Empty{})
		if err != nil {
			return nil, err
		}
		h := m.CSSContentSize.Height
		if limit := 4 * m.CSSLayoutViewport.ClientHeight; h > float64(limit) {
			h = float64(limit)
		}
		yes := true
		r, err := cdp.Call(ctx, t, cdppage.CaptureScreenshot, cdppage.CaptureScreenshotParams{
			CaptureBeyondViewport: &yes, FromSurface: &yes,
			Clip: &cdppage.Viewport{X: 0, Y: 0, Width: m.CSSContentSize.Width, Height: h, Scale: 1},
		})
		if err != nil {
			return nil, err
		}
		return r.Data, nil
	}
}
