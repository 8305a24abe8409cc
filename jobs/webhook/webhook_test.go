package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs/signal"
	"fleetprompt/jobs/webhook"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var ctx = context.Background()

// env is one tenant with the webhook engine running for it alone: its
// subscriber on a bus and its delivery job on a runner, retrying fast.
type env struct {
	t        *testing.T
	st       *store.Store
	tn       store.Tenant
	owner    int64
	engine   *webhook.Engine
	attempts chan store.WebhookAttempt
}

func newEnv(t *testing.T, cfg webhook.Config) *env {
	t.Helper()
	st := storetest.Store(t)
	tn, owner := storetest.NewTenant(t, st, "hook")
	e := &env{t: t, st: st, tn: tn, owner: owner.ID, attempts: make(chan store.WebhookAttempt, 1000)}
	cfg.Store, cfg.Logger = st, storetest.Quiet()
	if cfg.Schedule == nil {
		cfg.Schedule = []time.Duration{20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond, 160 * time.Millisecond}
	}
	cfg.OnAttemptFunc = func(_ store.Tenant, a store.WebhookAttempt) { e.attempts <- a }
	e.engine = webhook.New(cfg)
	bus := signal.New(signal.Config{Store: st, DSN: storetest.DSN(), Tenants: []string{tn.Schema()}, Logger: storetest.Quiet()})
	bus.Subscribe(e.engine.Subscriber())
	if err := bus.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		bus.Stop(c)
	})
	storetest.StartRunner(t, st, e.engine.RegisterJobs, tn)
	return e
}

func (e *env) endpoint(url string, events ...string) store.WebhookEndpoint {
	e.t.Helper()
	ep, err := e.st.CreateWebhookEndpoint(ctx, e.tn, e.owner, store.NewWebhookEndpoint{URL: url, Events: events})
	if err != nil {
		e.t.Fatal(err)
	}
	return ep
}

func (e *env) emit(name string, payload map[string]any) store.Signal {
	e.t.Helper()
	var sig store.Signal
	err := e.st.Tx(ctx, func(tx *sqlx.Tx) (err error) {
		sig, _, err = e.st.EmitSignal(ctx, tx, e.tn, store.NewSignal{Name: name, Source: "test", Payload: payload,
			Subject: store.Subject{Type: "thing", ID: "42"}, Actor: store.UserActor(e.owner)})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return sig
}

// waitAttempts waits for n attempts to be committed.
func (e *env) waitAttempts(n int) []store.WebhookAttempt {
	e.t.Helper()
	var got []store.WebhookAttempt
	timeout := time.After(20 * time.Second)
	for len(got) < n {
		select {
		case a := <-e.attempts:
			got = append(got, a)
		case <-timeout:
			e.t.Fatalf("%d attempts committed, want %d: %+v", len(got), n, got)
		}
	}
	return got
}

// until waits, attempt by attempt, for cond.
func (e *env) until(what string, cond func() bool) {
	e.t.Helper()
	timeout := time.After(20 * time.Second)
	for !cond() {
		select {
		case <-e.attempts:
		case <-time.After(100 * time.Millisecond):
		case <-timeout:
			e.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// nonWebhook leaves out the webhook.* signals (about the endpoints).
func nonWebhook(rs []received) []received {
	var out []received
	for _, r := range rs {
		if !strings.Contains(string(r.Body), `"type":"webhook.`) {
			out = append(out, r)
		}
	}
	return out
}

// received is one request a receiver got.
type received struct {
	ID, Timestamp string
	Signatures    []string
	Body          []byte
	Verified      bool
}

// receiver is a real HTTP endpoint on loopback that verifies every
// request with its own implementation of the Standard Webhooks check,
// written from the specification, not by calling the signer. failFirst
// requests answer 500 before it recovers.
type receiver struct {
	*httptest.Server
	mu        sync.Mutex
	secrets   []string
	got       []received
	failFirst int
}

func newReceiver(t *testing.T, failFirst int) *receiver {
	r := &receiver{failFirst: failFirst}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		rec := received{ID: req.Header.Get("webhook-id"), Timestamp: req.Header.Get("webhook-timestamp"),
			Signatures: strings.Fields(req.Header.Get("webhook-signature")), Body: body}
		r.mu.Lock()
		rec.Verified = verifyStandardWebhook(r.secrets, rec)
		r.got = append(r.got, rec)
		fail := len(r.got) <= r.failFirst
		r.mu.Unlock()
		if fail || !rec.Verified {
			http.Error(w, "not now", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "thanks")
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) trust(secrets ...string) {
	r.mu.Lock()
	r.secrets = secrets
	r.mu.Unlock()
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// verifyStandardWebhook is the receiver's check: for one of its secrets,
// base64 of HMAC-SHA256 over "id.timestamp.body" keyed with the secret's
// decoded bytes equals one of the "v1," signatures, and the timestamp is
// within five minutes of now.
func verifyStandardWebhook(secrets []string, r received) bool {
	ts, err := strconv.ParseInt(r.Timestamp, 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute || r.ID == "" {
		return false
	}
	for _, s := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		if err != nil {
			continue
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte(r.ID + "." + r.Timestamp + "." + string(r.Body)))
		want := m.Sum(nil)
		for _, sig := range r.Signatures {
			got, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sig, "v1,"))
			if err == nil && strings.HasPrefix(sig, "v1,") && hmac.Equal(got, want) {
				return true
			}
		}
	}
	return false
}

func TestDeliveriesAreSignedRetriedAndNothingIsLost(t *testing.T) {
	t.Parallel()
	e := newEnv(t, webhook.Config{AllowPrivate: true})
	rcv := newReceiver(t, 2) // the first two requests fail
	ep := e.endpoint(rcv.URL+"/hook", "forum.*")
	rcv.trust(ep.Secret)
	all := newReceiver(t, 0)
	epAll := e.endpoint(all.URL, "*")
	all.trust(epAll.Secret)

	var sent []store.Signal
	for i := range 3 {
		sent = append(sent, e.emit("forum.post.created", map[string]any{"n": i}))
	}
	e.emit("package.installation.installed", nil) // only "*" wants it
	e.emit("chat.message.completed", nil)         // private: never sent
	// 3 forum signals to ep (2 failures first); to epAll, those and the
	// package signal (and webhook.endpoint.created signals).
	e.until("every signal delivered", func() bool {
		if len(rcv.requests()) < 5 || len(nonWebhook(all.requests())) < 4 {
			return false
		}
		ds, _, err := e.st.WebhookDeliveries(ctx, e.tn, ep.ID, "", 50)
		done := 0
		for _, d := range ds {
			if d.Status == store.DeliverySucceeded {
				done++
			}
		}
		return err == nil && done == 3
	})

	checkMessages(t, rcv.requests(), sent)
	for _, r := range all.requests() {
		if strings.Contains(string(r.Body), "chat.") {
			t.Errorf("private chat signal delivered: %s", r.Body)
		}
	}
	if n := len(nonWebhook(all.requests())); n != 4 {
		t.Errorf("catch-all receiver got %d requests, want 4", n)
	}
	ds, _, err := e.st.WebhookDeliveries(ctx, e.tn, ep.ID, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	attempts := 0
	for _, d := range ds {
		if d.Status != store.DeliverySucceeded {
			t.Errorf("delivery %s is %s", d.ID, d.Status)
		}
		attempts += len(d.Log)
		if d.Attempts != len(d.Log) {
			t.Errorf("delivery %s: %d attempts, %d logged", d.ID, d.Attempts, len(d.Log))
		}
	}
	if attempts != 5 {
		t.Errorf("%d attempts recorded, want 5", attempts)
	}
	if got, _ := e.st.WebhookEndpointByID(ctx, e.tn, ep.ID); got.FailingSince.Valid {
		t.Errorf("endpoint still failing after a success")
	}
}

// checkMessages checks what the receiver that failed twice got: five
// verified requests carrying the three signals sent, each signal's
// webhook-id the same on its retry.
func checkMessages(t *testing.T, reqs []received, sent []store.Signal) {
	t.Helper()
	if len(reqs) != 5 {
		t.Fatalf("forum receiver got %d requests, want 5 (3 signals, 2 failed first)", len(reqs))
	}
	ids := map[string]int{}
	for _, r := range reqs {
		if !r.Verified {
			t.Errorf("request %s did not verify", r.ID)
		}
		ids[r.ID]++
	}
	for _, sig := range sent {
		var found bool
		for _, r := range reqs {
			var m webhook.Message
			if err := json.Unmarshal(r.Body, &m); err != nil {
				t.Fatal(err)
			}
			if m.Data.Seq == sig.Seq {
				found = true
				if m.Type != "forum.post.created" || m.Data.ID != sig.ID || m.Data.Subject.Type != "thing" || m.Data.Actor.Type != "user" {
					t.Errorf("message %+v", m)
				}
			}
		}
		if !found {
			t.Errorf("signal %d never arrived", sig.Seq)
		}
	}
	if len(ids) != 3 {
		t.Errorf("%d distinct webhook-ids, want 3 (stable across retries): %v", len(ids), ids)
	}
}

func TestRotatedSecretSignsBesideTheNewOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t, webhook.Config{AllowPrivate: true})
	oldRcv, newRcv := newReceiver(t, 0), newReceiver(t, 0)
	epOld := e.endpoint(oldRcv.URL, "forum.*")
	rotated, err := e.st.RotateWebhookSecret(ctx, e.tn, e.owner, epOld.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Secret == epOld.Secret || !rotated.PreviousExpiresAt.Valid ||
		time.Until(rotated.PreviousExpiresAt.Time) < 23*time.Hour {
		t.Fatalf("rotation: %+v", rotated)
	}
	oldRcv.trust(epOld.Secret)                 // a receiver not yet switched
	epNew := e.endpoint(newRcv.URL, "forum.*") // and one check of the new secret alone:
	newRcv.trust(rotated.Secret)
	if _, err := e.st.DB.ExecContext(ctx, e.tn.SQL(`UPDATE {tenant}.webhook_endpoints SET secret = $2 WHERE id = $1`), epNew.ID, rotated.Secret); err != nil {
		t.Fatal(err)
	}
	e.emit("forum.thread.created", nil)
	e.waitAttempts(2)
	for _, r := range []*receiver{oldRcv, newRcv} {
		reqs := r.requests()
		if len(reqs) != 1 || !reqs[0].Verified {
			t.Fatalf("requests %+v", reqs)
		}
	}
	if sigs := oldRcv.requests()[0].Signatures; len(sigs) != 2 {
		t.Errorf("rotated endpoint sent %d signatures, want 2 (new and old)", len(sigs))
	}
	if sigs := newRcv.requests()[0].Signatures; len(sigs) != 1 {
		t.Errorf("unrotated endpoint sent %d signatures, want 1", len(sigs))
	}
}

func TestGuardRefusesAtDialTime(t *testing.T) {
	t.Parallel()
	e := newEnv(t, webhook.Config{AllowPrivate: false})
	rcv := newReceiver(t, 0)
	// Saved as if it had resolved to a public address (DNS rebinding):
	// the dialled address is what counts.
	e.endpoint(rcv.URL, "forum.*")
	e.emit("forum.post.created", nil)
	a := e.waitAttempts(1)[0]
	if a.OK || !strings.Contains(a.Error, "refused") || a.StatusCode != 0 {
		t.Fatalf("attempt to loopback: %+v", a)
	}
	if n := len(rcv.requests()); n != 0 {
		t.Fatalf("the receiver on loopback got %d requests", n)
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"http://127.0.0.1:8080/x", "http://10.1.2.3/", "http://[::1]/hook", "http://localhost:9999/",
		"http://169.254.169.254/latest/meta-data", "http://0.0.0.0/", "http://[fd00::1]/", "http://224.0.0.1/",
		"http://[::ffff:127.0.0.1]/", "http://192.168.1.1/", "http://100.64.0.1/"} {
		if _, err := webhook.CheckURL(ctx, u, false); err == nil {
			t.Errorf("%s accepted with private addresses refused", u)
		}
	}
	for _, u := range []string{"ftp://example.com/", "not a url", "http:///nohost", ""} {
		if _, err := webhook.CheckURL(ctx, u, true); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
	if _, err := webhook.CheckURL(ctx, "https://93.184.216.34/hooks", false); err != nil {
		t.Errorf("a public address refused: %v", err)
	}
	if _, err := webhook.CheckURL(ctx, "http://localhost:9999/", true); err != nil {
		t.Errorf("localhost refused with WEBHOOK_ALLOW_PRIVATE: %v", err)
	}
}

func TestNoRedirectsTimeoutsAndCappedExcerpts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, webhook.Config{AllowPrivate: true, Timeout: 300 * time.Millisecond, Schedule: []time.Duration{}})
	var followed atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { followed.Add(1) }))
	defer target.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, strings.Repeat("é", 3000)) // 6,000 bytes
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	byEndpoint := map[string]string{}
	for _, p := range []string{"/redirect", "/slow", "/big"} {
		byEndpoint[e.endpoint(srv.URL+p, "forum.*").ID] = p
	}
	e.emit("forum.post.created", nil)
	for _, a := range e.waitAttempts(3) {
		if a.OK || !a.RetryAt.IsZero() {
			t.Errorf("%s: %+v, want a failure for good (no retries left)", byEndpoint[a.EndpointID], a)
		}
		switch byEndpoint[a.EndpointID] {
		case "/redirect":
			if a.StatusCode != http.StatusTemporaryRedirect || !strings.Contains(a.Error, "redirects are not followed") {
				t.Errorf("redirect: %+v", a)
			}
		case "/slow":
			if !strings.Contains(a.Error, "timed out") || a.Latency > 2*time.Second {
				t.Errorf("slow: %+v", a)
			}
		case "/big":
			if a.StatusCode != http.StatusBadGateway || len(a.Response) > 1024 || len(a.Response) < 1000 {
				t.Errorf("big: status %d, excerpt of %d bytes", a.StatusCode, len(a.Response))
			}
		}
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
	for id, p := range byEndpoint {
		ds, _, err := e.st.WebhookDeliveries(ctx, e.tn, id, "", 10)
		if err != nil || len(ds) != 1 || ds[0].Status != store.DeliveryFailed {
			t.Errorf("%s: deliveries %+v %v, want one failed", p, ds, err)
		}
	}
}

func TestEndpointFailingFiveDaysIsDisabled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, webhook.Config{AllowPrivate: true, Schedule: []time.Duration{}})
	rcv := newReceiver(t, 1000)
	ep := e.endpoint(rcv.URL, "forum.*")
	rcv.trust(ep.Secret)
	if _, err := e.st.DB.ExecContext(ctx, e.tn.SQL(`UPDATE {tenant}.webhook_endpoints SET failing_since = now() - interval '5 days 1 minute' WHERE id = $1`), ep.ID); err != nil {
		t.Fatal(err)
	}
	e.emit("forum.post.created", nil)
	e.waitAttempts(1)
	got, err := e.st.WebhookEndpointByID(ctx, e.tn, ep.ID)
	if err != nil || got.Enabled || !strings.HasPrefix(got.DisabledReason.String, "failing since") {
		t.Fatalf("endpoint after 5 days of failures: enabled %v, reason %q, %v", got.Enabled, got.DisabledReason.String, err)
	}
	sigs, err := e.st.SignalsBySubjects(ctx, e.tn, []store.Subject{{Type: store.SubjectWebhookEndpoint, ID: ep.ID}}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if last := sigs[len(sigs)-1]; last.Name != "webhook.endpoint.disabled" || last.ActorType != "system" {
		t.Errorf("last signal about the endpoint: %s by %s", last.Name, last.ActorType)
	}
}

func TestTestEventAndRedeliver(t *testing.T) {
	t.Parallel()
	e := newEnv(t, webhook.Config{AllowPrivate: true})
	a, b := newReceiver(t, 0), newReceiver(t, 0)
	epA, epB := e.endpoint(a.URL, "forum.*"), e.endpoint(b.URL, "forum.*")
	a.trust(epA.Secret)
	b.trust(epB.Secret)
	if _, err := e.st.TestWebhookEndpoint(ctx, e.tn, e.owner, epA.ID); err != nil {
		t.Fatal(err)
	}
	e.waitAttempts(1)
	if len(a.requests()) != 1 || len(b.requests()) != 0 {
		t.Fatalf("test event: %d to its endpoint, %d to the other", len(a.requests()), len(b.requests()))
	}
	ds, _, err := e.st.WebhookDeliveries(ctx, e.tn, epA.ID, "", 10)
	if err != nil || len(ds) != 1 {
		t.Fatalf("deliveries %v %v", ds, err)
	}
	if _, err := e.st.RedeliverWebhook(ctx, e.tn, ds[0].ID); err != nil {
		t.Fatal(err)
	}
	e.waitAttempts(1)
	reqs := a.requests()
	if len(reqs) != 2 || reqs[0].ID != reqs[1].ID || !reqs[1].Verified {
		t.Fatalf("redelivery: %+v", reqs)
	}
	ds, _, _ = e.st.WebhookDeliveries(ctx, e.tn, epA.ID, "", 10)
	if ds[0].Attempts != 2 || len(ds[0].Log) != 2 || ds[0].Status != store.DeliverySucceeded {
		t.Errorf("after redelivery: %+v", ds[0])
	}
}

// A job that runs twice for one attempt (a rescued worker) records it
// once: a first attempt, which writes the delivery's row, and a later one,
// which appends to its log.
func TestAnAttemptCountsOnce(t *testing.T) {
	t.Parallel()
	st := storetest.Store(t)
	tn, owner := storetest.NewTenant(t, st, "hookonce")
	ep, err := st.CreateWebhookEndpoint(ctx, tn, owner.ID, store.NewWebhookEndpoint{URL: "http://example.com/", Events: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	var sig store.Signal
	var ids []string
	err = st.Tx(ctx, func(tx *sqlx.Tx) (err error) {
		if sig, _, err = st.EmitSignal(ctx, tx, tn, store.NewSignal{Name: "forum.post.created", Source: "test"}); err != nil {
			return err
		}
		ids, err = st.AddWebhookDeliveriesTx(ctx, tx, tn, []store.NewWebhookDelivery{{EndpointID: ep.ID, SignalSeq: sig.Seq}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if ds, _, _ := st.WebhookDeliveries(ctx, tn, ep.ID, "", 10); len(ds) != 0 || len(ids) != 1 || !store.IsUUID(ids[0]) {
		t.Fatalf("queued: ids %v, rows %+v (a row is written by the first attempt)", ids, ds)
	}
	var raw []byte
	if err := st.DB.GetContext(ctx, &raw, `SELECT args FROM jobs WHERE kind = $1 AND tenant_schema = $2 AND args->>'attempt' = '1'`,
		store.WebhookDeliverJob, tn.Schema()); err != nil {
		t.Fatal(err)
	}
	var args store.WebhookDeliveryArgs
	if err := json.Unmarshal(raw, &args); err != nil {
		t.Fatal(err)
	}
	if ws, err := st.WebhookSendsFor(ctx, tn, args, false); err != nil || len(ws) != 1 || ws[0].Delivery.ID != ids[0] || !ws[0].New ||
		ws[0].Delivery.MessageID != store.WebhookMessageID(sig.ID, ep.ID) || ws[0].Endpoint.URL != ep.URL {
		t.Fatalf("sends of the queued job: %+v %v", ws, err)
	}
	a := store.WebhookAttempt{DeliveryID: ids[0], EndpointID: ep.ID, New: true, SignalSeq: sig.Seq, SignalName: sig.Name,
		MessageID: store.WebhookMessageID(sig.ID, ep.ID), Attempt: 1, At: time.Now(), StatusCode: 500, Error: "HTTP 500",
		Latency: 12 * time.Millisecond, Response: "not now", RetryAt: time.Now().Add(time.Hour)}
	for range 2 {
		if err := st.RecordWebhookAttempts(ctx, tn, []store.WebhookAttempt{a}, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	ds, _, _ := st.WebhookDeliveries(ctx, tn, ep.ID, "", 10)
	if len(ds) != 1 || ds[0].Attempts != 1 || len(ds[0].Log) != 1 || ds[0].Status != store.DeliveryRetrying ||
		ds[0].MessageID != a.MessageID || ds[0].SignalSeq != sig.Seq || !ds[0].NextAttemptAt.Valid {
		t.Fatalf("%+v", ds)
	}
	if l := ds[0].Log[0]; l.Attempt != 1 || l.StatusCode.Int64 != 500 || l.Error.String != "HTTP 500" || l.Response != "not now" ||
		l.LatencyMS != 12 || l.AttemptedAt.Sub(a.At).Abs() > time.Millisecond {
		t.Errorf("log line %+v", l)
	}
	if ws, err := st.WebhookSendsFor(ctx, tn, args, true); err != nil || len(ws) != 0 {
		t.Errorf("a rerun of the job sends %d again (%v), want none: its attempt is recorded", len(ws), err)
	}
	var retries int
	if err := st.DB.GetContext(ctx, &retries, `SELECT count(*) FROM jobs WHERE kind = $1 AND tenant_schema = $2 AND args->>'attempt' = '2'`,
		store.WebhookDeliverJob, tn.Schema()); err != nil {
		t.Fatal(err)
	}
	if retries != 1 {
		t.Errorf("%d retry jobs, want 1", retries)
	}
	a.New, a.Attempt, a.At, a.StatusCode, a.Error, a.Response, a.OK, a.RetryAt = false, 2, time.Now(), 204, "", "", true, time.Time{}
	for range 2 {
		if err := st.RecordWebhookAttempts(ctx, tn, []store.WebhookAttempt{a}, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	ds, _, _ = st.WebhookDeliveries(ctx, tn, ep.ID, "", 10)
	if ds[0].Attempts != 2 || len(ds[0].Log) != 2 || ds[0].Status != store.DeliverySucceeded || !ds[0].DeliveredAt.Valid ||
		ds[0].Log[1].StatusCode.Int64 != 204 || ds[0].Log[1].Error.Valid || ds[0].Log[0].Attempt != 1 {
		t.Fatalf("after the retry: %+v", ds[0])
	}
}

// A signal to more endpoints than a job has lanes: each endpoint gets it
// once, verified, and every attempt is committed (succeeded, logged)
// before the job completes.
func TestFanoutBeyondALanesWorth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, webhook.Config{AllowPrivate: true})
	rcv := newReceiver(t, 0)
	const n = 40
	var secrets []string
	for i := range n {
		secrets = append(secrets, e.endpoint(rcv.URL+"/"+strconv.Itoa(i), "forum.*").Secret)
	}
	rcv.trust(secrets...)
	e.emit("forum.post.created", map[string]any{"n": 1})
	as := e.waitAttempts(n)
	ids := map[string]bool{}
	for _, a := range as {
		if !a.OK || ids[a.DeliveryID] {
			t.Errorf("attempt %+v: failed, or a second for its delivery", a)
		}
		ids[a.DeliveryID] = true
	}
	reqs := rcv.requests()
	msgs := map[string]bool{}
	for _, r := range reqs {
		if !r.Verified {
			t.Errorf("unverified request %s", r.ID)
		}
		msgs[r.ID] = true
	}
	if len(reqs) != n || len(msgs) != n {
		t.Errorf("%d requests with %d webhook-ids, want %d of each", len(reqs), len(msgs), n)
	}
	var done int
	if err := e.st.DB.GetContext(ctx, &done, e.tn.SQL(`SELECT count(*) FROM {tenant}.webhook_deliveries d
		WHERE d.status = 'succeeded' AND d.attempts = 1 AND jsonb_array_length(d.log) = 1`)); err != nil {
		t.Fatal(err)
	}
	if done != n {
		t.Errorf("%d deliveries succeeded with their attempt logged, want %d", done, n)
	}
}
