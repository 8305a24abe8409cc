package handlers_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TestChatIsNamedByItsFirstMessage: the first message names the
// conversation, in the list and on its page; with htmx the answer to that
// message renames the open page at once (out of band), later ones don't.
func TestChatIsNamedByItsFirstMessage(t *testing.T) {
	s := startSite(t, siteConfig{agents: true, directives: allKinds})
	c := s.client()
	c.register("chatnamed")
	s.runJobs("chatnamed") // answers are executions of the agent engine
	r := c.post("/chat", url.Values{"agent_id": {"builtin"}})
	wantStatus(t, r, http.StatusSeeOther)
	conv := r.Header.Get("Location")
	if got := text(c.get(conv).doc(t), "[data-testid=chat-title]"); got != "New conversation" {
		t.Fatalf("before any message the title is %q", got)
	}

	first := c.post(conv+"/messages", url.Values{"body": {"Which packages suit a support team?\nWe are five people."}}, "HX-Request", "true")
	wantStatus(t, first, http.StatusOK)
	d := first.doc(t)
	if got := text(d, "#chat-title[hx-swap-oob]"); got != "Which packages suit a support team?" {
		t.Errorf("first answer renames the page to %q", got)
	}
	if d.Find("[id^=chat-link-][hx-swap-oob]").Length() != 1 || text(d, "title") != "Which packages suit a support team? · FleetPrompt" {
		t.Errorf("first answer does not rename the list link and the window: %s", first.Body)
	}
	// The next message is taken once the first answer is done.
	var second *response
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		second = c.post(conv+"/messages", url.Values{"body": {"And for sales?"}}, "HX-Request", "true")
		if second.StatusCode != http.StatusUnprocessableEntity || time.Now().After(deadline) {
			break
		}
	}
	wantStatus(t, second, http.StatusOK)
	if n := second.doc(t).Find("[hx-swap-oob]#chat-title").Length(); n != 0 {
		t.Errorf("a later message renames the conversation again")
	}
	for _, p := range []string{"/chat", conv} {
		if got := text(c.get(p).doc(t), `a[href="`+conv+`"]`); got != "Which packages suit a support team?" {
			t.Errorf("%s lists the conversation as %q", p, got)
		}
	}
}
