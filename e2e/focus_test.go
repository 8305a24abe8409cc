package e2e

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestFailedSubmitFocusesTheFirstInvalidField: after a refused form
// (htmx swaps it back with 422) focus is on the first invalid field, whose
// message is tied to it, never left on the body; the skip link is the
// page's first stop for the keyboard.
func TestFailedSubmitFocusesTheFirstInvalidField(t *testing.T) {
	a := startApp(t)
	ctx := browser(t)
	var focus, described, message, first string
	do(t, ctx,
		chromedp.Navigate(a.URL+"/register"),
		chromedp.WaitVisible(chromedp.CSS(`#register-form`)),
		// The browser's own checks would stop an empty form first.
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("#register-form [required]").forEach(e => e.removeAttribute("required"))`),
		chromedp.SendKeys(chromedp.CSS(`#org_name`), "Focus Org"),
		chromedp.Click(chromedp.CSS(`#register-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#name[aria-invalid=true]`)),
	)
	// The submit and the typed field's inline check both swap; let the
	// last one settle (htmx keeps focus on a swapped element's id).
	for i := 0; i < 40; i++ {
		if id, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`)); id == "name" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, q := range []struct {
		dst *string
		js  string
	}{
		{&focus, `document.activeElement.id`},
		{&described, `document.activeElement.getAttribute("aria-describedby") || ""`},
		{&message, `(document.getElementById((document.activeElement.getAttribute("aria-describedby") || "x").split(" ")[0]) || {}).textContent || ""`},
		{&first, `document.querySelector("a[href], button, input, select, textarea").className`},
	} {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](q.js))
		if err != nil {
			t.Fatal(err)
		}
		*q.dst = v
	}
	if focus != "name" || described == "" || message == "" {
		t.Errorf("after a failed submit focus is on %q (described by %q: %q), want the first invalid field, name", focus, described, message)
	}
	if first != "skip-link" {
		t.Errorf("first focusable element is %q, want the skip link", first)
	}
}
