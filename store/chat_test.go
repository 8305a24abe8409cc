package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

func chatTenant(t *testing.T, st *store.Store) (store.Tenant, int64) {
	t.Helper()
	ctx := context.Background()
	slug := storetest.Name("chat")
	u, org, err := st.Register(ctx, store.Registration{OrgName: "Org " + slug, OrgSlug: slug, Name: "Owner",
		Email: slug + "@example.com", Password: "password123"})
	if err != nil {
		t.Fatal(err)
	}
	return store.Tenant{OrgID: org.ID, Slug: org.Slug}, u.ID
}

// Conversations are their user's: another user's id (and a malformed
// one) is not found; one answer streams at a time; settling is once.
func TestChatConversationLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Store(t)
	tn, uid := chatTenant(t, st)
	if _, err := st.CreateConversation(ctx, tn, uid, "00000000-0000-4000-8000-000000000000"); !isInvalid(err, "agent_id") {
		t.Fatalf("unknown agent: %v", err)
	}
	c, err := st.CreateConversation(ctx, tn, uid, store.BuiltInAgentID)
	if err != nil || c.AgentID != "" || c.AgentName != store.BuiltInAssistant {
		t.Fatalf("built-in conversation %+v %v", c, err)
	}
	for _, id := range []string{c.ID, "nope"} {
		if _, err := st.Conversation(ctx, tn, uid+1000, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another user reads %s: %v", id, err)
		}
	}
	if _, err := st.SendChatMessage(ctx, tn, uid, c.ID, " \n "); !isInvalid(err, "body") {
		t.Fatalf("blank message: %v", err)
	}
	if _, err := st.SendChatMessage(ctx, tn, uid, c.ID, strings.Repeat("x", store.MaxChatMessage+1)); !isInvalid(err, "body") {
		t.Fatalf("long message: %v", err)
	}
	turn, err := st.SendChatMessage(ctx, tn, uid, c.ID, "  first line\nsecond  ")
	if err != nil || turn.User.Content != "first line\nsecond" || turn.Assistant.Status != store.ChatStreaming {
		t.Fatalf("turn %+v %v", turn, err)
	}
	if _, err := st.SendChatMessage(ctx, tn, uid, c.ID, "again"); !isInvalid(err, "body") {
		t.Fatalf("a second message while answering: %v", err)
	}
	if c, _ = st.Conversation(ctx, tn, uid, c.ID); c.Title != "first line" {
		t.Errorf("title %q", c.Title)
	}
	if err := st.SaveChatProgress(ctx, tn, turn.Assistant.ID, "par"); err != nil {
		t.Fatal(err)
	}
	stopped, runs, err := st.StopChat(ctx, tn, uid, c.ID)
	if err != nil || len(stopped) != 1 || stopped[0].Content != "par" || stopped[0].Status != store.ChatStopped || len(runs) != 1 {
		t.Fatalf("stop %+v runs %v %v", stopped, runs, err)
	}
	if ex, _ := st.Execution(ctx, tn, runs[0]); ex.Status != store.ExecCanceled || ex.Purpose != store.PurposeChat {
		t.Fatalf("the answer's run %+v", ex)
	}
	// The run settling after the stop keeps the answer stopped, with the
	// text it had written.
	err = st.Tx(ctx, func(tx *sqlx.Tx) error {
		return st.SettleChatAnswerTx(ctx, tx, tn, store.ChatOutcome{MessageID: turn.Assistant.ID, Content: "partial", Status: store.ChatComplete})
	})
	if got, _ := st.ChatMessage(ctx, tn, c.ID, turn.Assistant.ID); err != nil || got.Status != store.ChatStopped || got.Content != "partial" {
		t.Fatalf("settled after stop: %+v %v", got, err)
	}
	m, err := st.RetryChat(ctx, tn, uid, c.ID)
	if err != nil || m.Status != store.ChatStreaming {
		t.Fatalf("retry %+v %v", m, err)
	}
	if _, err := st.RetryChat(ctx, tn, uid, c.ID); !isInvalid(err, "") && !isInvalid(err, "body") {
		t.Fatalf("retry while answering: %v", err)
	}
	// Left behind by a dead process: failed once stale.
	if _, err := st.DB.ExecContext(ctx, tn.SQL(`UPDATE {tenant}.chat_messages SET updated_at = now() - interval '1 hour' WHERE id = $1`), m.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.FailStaleChat(ctx, tn, c.ID, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.ChatMessage(ctx, tn, c.ID, m.ID); got.Status != store.ChatFailed || got.Error == "" {
		t.Fatalf("stale answer %+v", got)
	}
	convs, err := st.Conversations(ctx, tn, uid, 10)
	if err != nil || len(convs) != 1 {
		t.Fatalf("conversations %+v %v", convs, err)
	}
	if other, _ := st.Conversations(ctx, tn, uid+1000, 10); len(other) != 0 {
		t.Errorf("another user lists %d conversations", len(other))
	}
}

func isInvalid(err error, field string) bool {
	var v *store.ValidationError
	if !errors.As(err, &v) {
		return false
	}
	_, ok := v.Fields[field]
	return ok
}
