package executor_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"fleetprompt/jobs/directive"
	"fleetprompt/jobs/executor"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// forum.post.create writes a reply as the requester, with the forum's
// rules: a locked thread refuses it, and a member may not post as
// someone else.
func TestPostCreateDirective(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Store(t)
	tn, owner := storetest.NewTenant(t, st, "postdir")
	cat, err := st.CreateForumCategory(ctx, tn, owner.ID, store.NewForumCategory{Name: "General", Slug: "general"})
	if err != nil {
		t.Fatal(err)
	}
	th, _, err := st.CreateForumThread(ctx, tn, owner.ID, store.NewForumThread{CategoryID: cat.ID, Title: "Hello", Body: "First."})
	if err != nil {
		t.Fatal(err)
	}
	eng := directive.New(st, storetest.Quiet(), executor.Forum(st)...)
	storetest.StartRunner(t, st, eng.RegisterJobs, tn)
	run := func(p executor.PostCreate) store.Directive {
		t.Helper()
		d, _, err := eng.Request(ctx, tn, store.DirectiveRequest{Kind: executor.DirectivePostCreate, Payload: p, UserID: owner.ID}, false)
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(15 * time.Second)
		for !d.Finished() && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
			d, _ = st.Directive(ctx, tn, d.ID)
		}
		return d
	}
	if d := run(executor.PostCreate{ThreadID: th.ID, Body: "A reply by directive."}); d.Status != store.DirectiveSucceeded {
		t.Fatalf("reply: %s %s", d.Status, d.LastError)
	}
	posts, _, _ := st.ThreadPosts(ctx, tn, th.ID, false, 1)
	if len(posts) != 2 || posts[1].Content != "A reply by directive." || posts[1].AuthorID.String != strconv.FormatInt(owner.ID, 10) {
		t.Fatalf("posts %+v", posts)
	}
	if d := run(executor.PostCreate{ThreadID: th.ID, Body: "As someone else.", AsUser: owner.ID + 1000}); d.Status != store.DirectiveFailed ||
		!strings.Contains(d.LastError, "only post as themselves") {
		t.Errorf("as another user: %s %q", d.Status, d.LastError)
	}
	if _, err := st.DB.ExecContext(ctx, tn.SQL(`UPDATE {tenant}.forum_threads SET status = 'locked' WHERE id = $1`), th.ID); err != nil {
		t.Fatal(err)
	}
	if d := run(executor.PostCreate{ThreadID: th.ID, Body: "Too late."}); d.Status != store.DirectiveFailed || !strings.Contains(d.LastError, "locked") {
		t.Errorf("locked thread: %s %q", d.Status, d.LastError)
	}
}
