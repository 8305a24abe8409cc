package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fleetprompt/store"
)

// heldThread holds th's row lock until the returned function is called,
// so that replies pile up behind it and go in batches.
func heldThread(t *testing.T, f *forumFixture, threadID string) (release func()) {
	t.Helper()
	tx, err := f.s.DB.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(f.t.SQL(`SELECT 1 FROM {tenant}.forum_threads WHERE id = $1 FOR UPDATE`), threadID); err != nil {
		t.Fatal(err)
	}
	return func() { tx.Rollback() }
}

type replied struct {
	store.Reply
	err error
}

// replyAtOnce sends n replies to threadID while its row is held, then
// releases it: the replies queued behind the lock go in batches.
func replyAtOnce(t *testing.T, f *forumFixture, threadID string, n int, key func(i int) string) []replied {
	t.Helper()
	ctx := context.Background()
	release := heldThread(t, f, threadID)
	out := make([]replied, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &out[i]
			r.Reply, r.err = f.s.CreateForumReplyOnce(ctx, f.t, f.user, threadID, fmt.Sprintf("reply %d", i), key(i))
		}()
	}
	time.Sleep(200 * time.Millisecond) // every request is queued (in Go, or two at the row)
	release()
	wg.Wait()
	return out
}

// transactions counts the transactions that wrote the thread's posts.
func transactions(t *testing.T, f *forumFixture, threadID string) (posts, txs int) {
	t.Helper()
	if err := f.s.DB.QueryRow(f.t.SQL(`SELECT count(*), count(DISTINCT xmin::text) FROM {tenant}.forum_posts WHERE thread_id = $1`), threadID).Scan(&posts, &txs); err != nil {
		t.Fatal(err)
	}
	return posts, txs
}

func TestRepliesQueuedBehindTheThreadGoInBatchesEachItsOwn(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	ctx := context.Background()
	th, first := f.thread(t, "Busy")
	const n = 40
	out := replyAtOnce(t, f, th.ID, n, func(int) string { return "" })
	counts := map[int]bool{}
	for i, r := range out {
		if r.err != nil || !r.Created || r.Post.Content != fmt.Sprintf("reply %d", i) || r.Post.ThreadID != th.ID {
			t.Fatalf("reply %d: %+v %v", i, r.Post, r.err)
		}
		// Each answer places its own reply: the thread as it left it.
		if counts[r.Thread.PostCount] || r.Thread.LastPostID.String != r.Post.ID {
			t.Errorf("reply %d: thread count %d (seen: %v), last post %s", i, r.Thread.PostCount, counts[r.Thread.PostCount], r.Thread.LastPostID.String)
		}
		counts[r.Thread.PostCount] = true
	}
	for c := 2; c <= n+1; c++ {
		if !counts[c] {
			t.Errorf("no reply left the thread at %d posts", c)
		}
	}
	posts, txs := transactions(t, f, th.ID)
	if posts != n+1 || txs > n/4 {
		t.Errorf("%d posts in %d transactions: the queued replies did not go in batches", posts, txs)
	}
	got, err := f.s.ForumThread(ctx, f.t, th.ID)
	if err != nil || got.PostCount != n+1 {
		t.Fatalf("post_count %d, %v", got.PostCount, err)
	}
	// The page, the signals and the thread's last post agree on one order,
	// with the opening post first.
	var order []string
	if err := f.s.DB.Select(&order, f.t.SQL(`SELECT id::text FROM {tenant}.forum_posts WHERE thread_id = $1 ORDER BY created_at, id`), th.ID); err != nil {
		t.Fatal(err)
	}
	var bySeq []string
	if err := f.s.DB.Select(&bySeq, f.t.SQL(`SELECT subject_id FROM {tenant}.signals WHERE name = 'forum.post.created'
		AND payload->>'thread_id' = $1 ORDER BY seq`), th.ID); err != nil {
		t.Fatal(err)
	}
	if strings.Join(order, ",") != strings.Join(bySeq, ",") || order[0] != first.ID || got.LastPostID.String != order[n] {
		t.Errorf("posts by time %v\nsignals by seq %v\nlast post %s", order, bySeq, got.LastPostID.String)
	}
	// Each answer names the last seq of its batch (what the thread cache
	// drops by): at or past its own signal's, and the seq of one of them.
	var last []int64
	if err := f.s.DB.Select(&last, f.t.SQL(`SELECT seq FROM {tenant}.signals WHERE name = 'forum.post.created'
		AND payload->>'thread_id' = $1`), th.ID); err != nil {
		t.Fatal(err)
	}
	for _, r := range out {
		var own int64
		if err := f.s.DB.Get(&own, f.t.SQL(`SELECT seq FROM {tenant}.signals WHERE subject_id = $1`), r.Post.ID); err != nil {
			t.Fatal(err)
		}
		if r.Seq < own || !slices.Contains(last, r.Seq) {
			t.Errorf("reply %s: seq %d; its signal's is %d", r.Post.ID, r.Seq, own)
		}
	}
	var opening int
	if err := f.s.DB.Get(&opening, f.t.SQL(`SELECT count(*) FROM {tenant}.forum_post_search WHERE thread_id = $1 AND opening`), th.ID); err != nil || opening != 1 {
		t.Errorf("%d opening posts in the search rows, %v", opening, err)
	}
}

func TestABatchWithAResentFormAnswersEachAsIfAlone(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	th, _ := f.thread(t, "Resent")
	// Replies 0 and 1 are the same form sent twice; the rest are new.
	out := replyAtOnce(t, f, th.ID, 12, func(i int) string {
		if i < 2 {
			return "form-0"
		}
		return fmt.Sprintf("form-%d", i)
	})
	created := 0
	for i, r := range out {
		if r.err != nil {
			t.Fatalf("reply %d: %v", i, r.err)
		}
		if r.Created {
			created++
		}
	}
	if created != 11 || out[0].Post.ID != out[1].Post.ID || out[0].Created == out[1].Created {
		t.Errorf("%d created; the resent form: %s (created %v) and %s (created %v)", created, out[0].Post.ID, out[0].Created, out[1].Post.ID, out[1].Created)
	}
	if posts, _ := transactions(t, f, th.ID); posts != 12 {
		t.Errorf("%d posts, want the opening one and 11 replies", posts)
	}
}

func TestABatchToAThreadLockedMeanwhileIsRefusedWhole(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	th, _ := f.thread(t, "Closing")
	tx, err := f.s.DB.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(f.t.SQL(`UPDATE {tenant}.forum_threads SET status = 'locked' WHERE id = $1`), th.ID); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = f.s.CreateForumReply(context.Background(), f.t, f.user, th.ID, "too late")
		}()
	}
	time.Sleep(200 * time.Millisecond) // all queued behind the lock being taken
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, err := range errs {
		if msg := fieldErr(t, err, ""); !strings.Contains(msg, "locked") {
			t.Errorf("reply %d: %v", i, err)
		}
	}
	if posts, _ := transactions(t, f, th.ID); posts != 1 {
		t.Errorf("%d posts in a thread locked before any reply", posts)
	}
}
