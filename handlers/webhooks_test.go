package handlers_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"fleetprompt/jobs/signal"
	"fleetprompt/jobs/webhook"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

func TestWebhookEndpointsRefusePrivateAddressesWithoutTheFlag(t *testing.T) {
	t.Parallel()
	s := newSite(t) // no engine: URLs are checked strictly
	owner := s.client()
	owner.register(storetest.Name("hookssrf"))
	for _, u := range []string{"http://127.0.0.1:9/x", "http://10.0.0.7/", "http://[::1]:8080/", "http://localhost:8080/hook"} {
		r := owner.post("/admin/webhooks", url.Values{"url": {u}, "events": {"forum.*"}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		if msg := text(r.doc(t), "#field-url .error"); !strings.Contains(msg, "not a public address") {
			t.Errorf("%s: message %q", u, msg)
		}
	}
	r := owner.post("/admin/webhooks", url.Values{"url": {"https://93.184.216.34/"}, "events": {"forum.*, nope!"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if text(r.doc(t), "#field-events .error") == "" {
		t.Error("a bad pattern has no message")
	}
	// The input is kept.
	if v, _ := r.doc(t).Find("#url").Attr("value"); v != "https://93.184.216.34/" {
		t.Errorf("url kept as %q", v)
	}
}

func TestWebhookAdminJourney(t *testing.T) {
	t.Parallel()
	st := storetest.Store(t)
	var mu sync.Mutex
	var got []http.Header
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		got = append(got, r.Header.Clone())
		mu.Unlock()
		io.WriteString(w, "ok from the receiver")
	}))
	defer rcv.Close()
	requests := func() []http.Header { mu.Lock(); defer mu.Unlock(); return append([]http.Header(nil), got...) }

	engine := webhook.New(webhook.Config{Store: st, AllowPrivate: true, Logger: storetest.Quiet()})
	s := startSite(t, siteConfig{store: st, webhooks: engine, subscribers: []signal.Subscriber{engine.Subscriber()}})
	owner := s.client()
	slug := storetest.Name("hookadmin")
	owner.register(slug)
	s.runJobs(slug)
	org, _ := st.OrganizationBySlug(ctx, slug)
	storetest.StartRunner(t, st, engine.RegisterJobs, org.Tenant())

	r := owner.post("/admin/webhooks", url.Values{"url": {rcv.URL + "/hook"}, "events": {"forum.*\npackage.installation.installed"}, "description": {"CRM"}})
	wantStatus(t, r, http.StatusSeeOther)
	page := r.Header.Get("Location")
	secret := text(owner.get(page).doc(t), "[data-testid=secret]")
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if !strings.HasPrefix(secret, "whsec_") || err != nil || len(raw) < 24 {
		t.Fatalf("secret %q (%d bytes, %v)", secret, len(raw), err)
	}
	d := owner.get(page).doc(t)
	if d.Find("[data-testid=secret]").Length() != 0 {
		t.Fatal("the secret is shown twice")
	}
	if owner.get("/admin/webhooks").doc(t).Find("[data-testid=webhook-row]").Length() != 1 {
		t.Fatal("the endpoint is not listed")
	}

	wantStatus(t, owner.post(page+"/test", url.Values{"return_to": {page}}), http.StatusSeeOther)
	waitFor(t, "the test event", func() bool { return len(requests()) == 1 && deliveryStatus(t, owner, page) == store.DeliverySucceeded })
	d = owner.get(page).doc(t)
	if got := text(d, "[data-testid=attempt-status]"); got != "200" || !strings.Contains(d.Find("[data-testid=attempt]").Text(), "ok from the receiver") {
		t.Errorf("delivery log: status %q, line %q", got, d.Find("[data-testid=attempt]").Text())
	}

	// Rotation shows the new secret once; both sign for a day.
	r = owner.post(page+"/rotate", url.Values{})
	wantStatus(t, r, http.StatusSeeOther)
	if next := text(owner.get(page).doc(t), "[data-testid=secret]"); next == secret || !strings.HasPrefix(next, "whsec_") {
		t.Errorf("rotated secret %q", next)
	}
	delivery, _ := owner.get(page).doc(t).Find("[data-testid=delivery-row]").Attr("data-id")
	wantStatus(t, owner.post("/admin/webhooks/deliveries/"+delivery+"/redeliver", url.Values{"return_to": {page}}), http.StatusSeeOther)
	waitFor(t, "the redelivery", func() bool { return len(requests()) == 2 })
	hs := requests()
	if hs[0].Get("webhook-id") != hs[1].Get("webhook-id") || len(strings.Fields(hs[1].Get("webhook-signature"))) != 2 {
		t.Errorf("redelivery: ids %q %q, signatures %q", hs[0].Get("webhook-id"), hs[1].Get("webhook-id"), hs[1].Get("webhook-signature"))
	}

	wantStatus(t, owner.post(page+"/disable", url.Values{"return_to": {page}}), http.StatusSeeOther)
	if got := text(owner.get(page).doc(t), "[data-testid=webhook-status]"); !strings.Contains(got, "disabled") {
		t.Errorf("status after disable: %q", got)
	}
	wantStatus(t, owner.post(page+"/test", url.Values{"return_to": {page}}), http.StatusUnprocessableEntity)
	wantStatus(t, owner.post(page+"/enable", url.Values{"return_to": {page}}), http.StatusSeeOther)
	if got := text(owner.get(page).doc(t), "[data-testid=webhook-status]"); !strings.Contains(got, "enabled") {
		t.Errorf("status after enable: %q", got)
	}
}

// deliveryStatus is the newest delivery's status on the endpoint's page.
func deliveryStatus(t *testing.T, c *client, page string) string {
	s, _ := c.get(page).doc(t).Find("[data-testid=delivery-row]").First().Attr("data-status")
	return s
}
