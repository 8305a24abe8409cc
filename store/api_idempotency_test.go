package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jmoiron/sqlx"

	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

func TestAPIWriteKeepsTheFirstResponse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.Store(t)
	tn, _ := storetest.NewTenant(t, s, "idem")
	once := store.APIOnce{Route: "POST /api/v1/things", Key: "k1", Hash: "h1", APIKeyID: "00000000-0000-0000-0000-000000000001"}
	runs := 0
	write := func(o store.APIOnce, fail error) (store.APIResponse, bool, error) {
		return s.APIWrite(ctx, tn, o, func(tx *sqlx.Tx) (store.APIResponse, error) {
			runs++
			if fail != nil {
				return store.APIResponse{}, fail
			}
			return store.APIResponse{Status: 201, Body: `{"n":` + string(rune('0'+runs)) + `}`}, nil
		})
	}
	// A failure records nothing: the request may be sent again.
	if _, _, err := write(once, errors.New("boom")); err == nil {
		t.Fatal("the error was lost")
	}
	first, replayed, err := write(once, nil)
	if err != nil || replayed || first.Body != `{"n":2}` {
		t.Fatalf("first: %+v %v %v", first, replayed, err)
	}
	again, replayed, err := write(once, nil)
	if err != nil || !replayed || again != first || runs != 2 {
		t.Fatalf("replay: %+v %v %v (runs %d)", again, replayed, err, runs)
	}
	other := once
	other.Hash = "h2"
	if _, _, err := write(other, nil); !errors.Is(err, store.ErrIdempotencyReused) {
		t.Fatalf("another body with the key: %v", err)
	}
	// An expired record is taken over by the next request.
	if _, err := s.DB.ExecContext(ctx, tn.SQL(`UPDATE {tenant}.api_idempotency SET expires_at = now() - interval '1 second'`)); err != nil {
		t.Fatal(err)
	}
	if r, replayed, err := write(other, nil); err != nil || replayed || r.Body != `{"n":3}` {
		t.Fatalf("after expiry: %+v %v %v", r, replayed, err)
	}
	// Other tests' tenants share the database: only this one's record is
	// known to be live, and a broken tenant elsewhere must not stop it.
	if _, err := s.PruneAPIIdempotency(ctx); err != nil {
		t.Errorf("prune: %v", err)
	}
	var left int
	if err := s.DB.GetContext(ctx, &left, tn.SQL(`SELECT count(*) FROM {tenant}.api_idempotency`)); err != nil || left != 1 {
		t.Errorf("prune removed a live record: %d left, %v", left, err)
	}
}

func TestWebhookEndpointGetsSignalsFromItsCreationOn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.Store(t)
	tn, u := storetest.NewTenant(t, s, "hookfrom")
	var before store.Signal
	if err := s.Tx(ctx, func(tx *sqlx.Tx) (err error) {
		before, _, err = s.EmitSignal(ctx, tx, tn, store.NewSignal{Name: "forum.post.created", Source: "test"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ep, err := s.CreateWebhookEndpoint(ctx, tn, u.ID, store.NewWebhookEndpoint{URL: "https://example.com/h", Events: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	eps, _ := s.WebhookEndpoints(ctx, tn)
	if len(eps) != 1 || eps[0].FromSeq != ep.FromSeq || ep.FromSeq <= before.Seq {
		t.Fatalf("from_seq %d (listed %+v), signal before at %d", ep.FromSeq, eps, before.Seq)
	}
	after := before
	after.Seq = ep.FromSeq + 1
	if ep.Wants(before) || !ep.Wants(after) {
		t.Errorf("wants the signal before its creation %v, after %v", ep.Wants(before), ep.Wants(after))
	}
	if _, err := s.CreateWebhookEndpoint(ctx, tn, u.ID, store.NewWebhookEndpoint{URL: "https://example.com/h", Events: []string{"forum.*", "Bad Pattern"}}); err == nil {
		t.Error("a bad pattern was accepted")
	}
}
