package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// The forum rules of SPEC §16: edits with revisions, reactions, solved
// threads, pins, flags and the queue, the posting limit, idempotent new
// threads, the lists' last poster.

// person registers another user (with an organization of their own: the
// store's forum rules take user ids and roles, not memberships).
func (f *forumFixture) person(t *testing.T, name string) store.User {
	t.Helper()
	slug := storetest.Name("p")
	u, _, err := f.s.Register(context.Background(), store.Registration{OrgName: "Org " + slug, OrgSlug: slug, Name: name,
		Email: slug + "@example.com", Password: "password123"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (f *forumFixture) reply(t *testing.T, userID int64, threadID, body string) store.ForumPost {
	t.Helper()
	_, p, err := f.s.CreateForumReply(context.Background(), f.t, userID, threadID, body)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// lastSignal is the latest signal named name, with its payload decoded.
func (f *forumFixture) lastSignal(t *testing.T, name string) (store.Signal, map[string]any) {
	t.Helper()
	sigs, err := f.s.LatestSignals(context.Background(), f.t, 200)
	if err != nil {
		t.Fatal(err)
	}
	for _, sg := range sigs {
		if sg.Name == name {
			var p map[string]any
			json.Unmarshal(sg.Payload, &p)
			return sg, p
		}
	}
	t.Fatalf("no %s signal", name)
	return store.Signal{}, nil
}

func (f *forumFixture) countSignals(t *testing.T, name string) int {
	t.Helper()
	sigs, err := f.s.LatestSignals(context.Background(), f.t, 500)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, sg := range sigs {
		if sg.Name == name {
			n++
		}
	}
	return n
}

func TestEditKeepsRevisionsAndFollowsWhoMayEdit(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	ctx := context.Background()
	ana, bo := f.person(t, "Ana Author"), f.person(t, "Bo Bystander")
	th, _ := f.thread(t, "Editing")
	p := f.reply(t, ana.ID, th.ID, "first version")

	edit := func(user int64, mod bool, body string, base int) (store.EditResult, error) {
		return f.s.EditPost(ctx, f.t, user, mod, store.PostEdit{PostID: p.ID, Body: body, BaseRevision: base})
	}
	r, err := edit(ana.ID, false, "second **version**", 1)
	if err != nil || !r.Changed || r.Post.Revision != 2 || !r.Post.Edited() || !strings.Contains(string(r.Post.HTML()), "<strong>version</strong>") {
		t.Fatalf("author's edit: %+v %v", r.Post, err)
	}
	sg, payload := f.lastSignal(t, "forum.post.edited")
	if sg.ActorID != idStr(ana.ID) || payload["post_author_user_id"] != float64(ana.ID) || payload["revision"] != float64(2) ||
		payload["thread_id"] != th.ID || payload["by_moderator"] != false {
		t.Errorf("edited signal %+v %v", sg, payload)
	}
	// The same form sent again changes nothing and emits nothing.
	if r, err := edit(ana.ID, false, "second **version**", 1); err != nil || r.Changed {
		t.Errorf("resent edit: %+v %v", r, err)
	}
	if n := f.countSignals(t, "forum.post.edited"); n != 1 {
		t.Errorf("%d edited signals, want 1", n)
	}
	// A form opened on version 1 does not overwrite version 2 silently.
	if _, err := edit(ana.ID, false, "from a stale tab", 1); !strings.Contains(fieldErr(t, err, "revision"), "version 2") {
		t.Errorf("stale edit: %v", err)
	}
	if _, err := edit(bo.ID, false, "not mine", 0); !errors.Is(err, store.ErrForbidden) {
		t.Errorf("someone else's edit: %v", err)
	}
	fieldErr(t, func() error { _, err := edit(ana.ID, false, "   ", 0); return err }(), "body")
	// A moderator edits anyone's post; the history names both writers.
	if r, err := edit(f.user, true, "third, by a moderator", 0); err != nil || r.Post.Revision != 3 {
		t.Fatalf("moderator's edit: %+v %v", r, err)
	}
	if _, payload := f.lastSignal(t, "forum.post.edited"); payload["by_moderator"] != true {
		t.Errorf("moderator's edit payload %v", payload)
	}
	cur, _ := f.s.ForumPost(ctx, f.t, p.ID)
	revs, err := f.s.PostRevisions(ctx, f.t, cur)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range revs {
		got = append(got, r.WriterName+":"+strings.TrimSpace(stripTags(r.HTML)))
	}
	if want := "Owner:third, by a moderator|Ana Author:second version|Ana Author:first version"; strings.Join(got, "|") != want {
		t.Errorf("revisions\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
	if !revs[0].Current || revs[1].Current || revs[0].Revision != 3 || revs[2].Revision != 1 {
		t.Errorf("revision numbers %+v", revs)
	}
}

func TestEditRefusedInLockedThreadsAndOnDeletedPosts(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	m := newModeration(t, f)
	ctx := context.Background()
	ana := f.person(t, "Ana")
	th, _ := f.thread(t, "Locked edits")
	p := f.reply(t, ana.ID, th.ID, "before the lock")
	m.do(t, store.DirectiveThreadLock, store.ForumModeration{ThreadID: th.ID}, "")
	_, err := f.s.EditPost(ctx, f.t, ana.ID, false, store.PostEdit{PostID: p.ID, Body: "after"})
	if msg := fieldErr(t, err, ""); !strings.Contains(msg, "locked") {
		t.Errorf("author's edit in a locked thread: %q", msg)
	}
	if _, err := f.s.EditPost(ctx, f.t, f.user, true, store.PostEdit{PostID: p.ID, Body: "moderators may"}); err != nil {
		t.Errorf("moderator's edit in a locked thread: %v", err)
	}
	m.do(t, store.DirectivePostDelete, store.ForumModeration{ThreadID: th.ID, PostID: p.ID}, "")
	if _, err := f.s.EditPost(ctx, f.t, ana.ID, false, store.PostEdit{PostID: p.ID, Body: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("member's edit of a deleted post: %v, want not found", err)
	}
	if msg := fieldErr(t, func() error {
		_, err := f.s.EditPost(ctx, f.t, f.user, true, store.PostEdit{PostID: p.ID, Body: "x"})
		return err
	}(), ""); !strings.Contains(msg, "deleted") {
		t.Errorf("moderator's edit of a deleted post: %q", msg)
	}
}

func TestReactionsToggleCountAndRefuseOwnPosts(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	ctx := context.Background()
	ana, bo := f.person(t, "Ana"), f.person(t, "Bo")
	th, _ := f.thread(t, "Reactions")
	p := f.reply(t, ana.ID, th.ID, "react to me")
	react := func(user int64, kind string, had *bool) (store.ReactionResult, error) {
		return f.s.React(ctx, f.t, user, false, store.Reaction{PostID: p.ID, Kind: kind, Had: had})
	}
	yes, no := true, false
	if r, err := react(bo.ID, "like", nil); err != nil || !r.Has || !r.Changed || r.Post.Reactions["like"] != 1 {
		t.Fatalf("first like: %+v %v", r, err)
	}
	if r, err := react(f.user, "like", &no); err != nil || r.Post.Reactions["like"] != 2 {
		t.Fatalf("second like: %+v %v", r, err)
	}
	// The form said "you had not liked it": sent again, it changes nothing.
	if r, err := react(f.user, "like", &no); err != nil || r.Changed || !r.Has || r.Post.Reactions["like"] != 2 {
		t.Errorf("resent like: %+v %v", r, err)
	}
	sg, payload := f.lastSignal(t, "forum.post.reacted")
	if sg.ActorID != idStr(f.user) || payload["kind"] != "like" || payload["count"] != float64(2) || payload["post_author_user_id"] != float64(ana.ID) {
		t.Errorf("reacted signal %+v %v", sg, payload)
	}
	if r, err := react(bo.ID, "like", &yes); err != nil || r.Has || r.Post.Reactions["like"] != 1 {
		t.Errorf("unlike: %+v %v", r, err)
	}
	if _, payload := f.lastSignal(t, "forum.post.unreacted"); payload["count"] != float64(1) {
		t.Errorf("unreacted payload %v", payload)
	}
	if r, err := react(bo.ID, "heart", nil); err != nil || r.Post.Reactions["heart"] != 1 || r.Post.Reactions.Total() != 2 {
		t.Errorf("heart: %+v %v", r.Post.Reactions, err)
	}
	mine, err := f.s.ViewerReactions(ctx, f.t, bo.ID, []string{p.ID, th.FirstPostID.String})
	if err != nil || strings.Join(mine[p.ID], ",") != "heart" || len(mine) != 1 {
		t.Errorf("Bo's reactions %v %v", mine, err)
	}
	fieldErr(t, func() error { _, err := react(bo.ID, "shrug", nil); return err }(), "kind")
	if msg := fieldErr(t, func() error { _, err := react(ana.ID, "like", nil); return err }(), ""); !strings.Contains(msg, "own post") {
		t.Errorf("own post: %q", msg)
	}
	if _, err := f.s.React(ctx, f.t, bo.ID, false, store.Reaction{PostID: "00000000-0000-0000-0000-000000000000", Kind: "like"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing post: %v", err)
	}
	// The counts come with the thread page's posts.
	v, err := f.s.ForumThreadPage(ctx, f.t, th.ID, false, 1, store.AuditCursor{})
	if err != nil || v.Posts[1].Reactions["like"] != 1 || v.Posts[1].Reactions["heart"] != 1 {
		t.Errorf("thread page reactions %+v %v", v.Posts, err)
	}
}

func TestSolveRulesAndSignal(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	ctx := context.Background()
	starter, helper, other := f.person(t, "Starter"), f.person(t, "Helper"), f.person(t, "Other")
	th, first, err := f.s.CreateForumThread(ctx, f.t, starter.ID, store.NewForumThread{CategoryID: f.cat.ID, Title: "How?", Body: "How do I?"})
	if err != nil {
		t.Fatal(err)
	}
	a := f.reply(t, helper.ID, th.ID, "Like this.")
	b := f.reply(t, other.ID, th.ID, "Or like that.")
	other2, _ := f.thread(t, "Elsewhere")

	if _, err := f.s.SolveThread(ctx, f.t, other.ID, false, th.ID, a.ID); !errors.Is(err, store.ErrForbidden) {
		t.Errorf("a member who did not start the thread: %v", err)
	}
	fieldErr(t, func() error { _, err := f.s.SolveThread(ctx, f.t, starter.ID, false, th.ID, first.ID); return err }(), "post_id")
	fieldErr(t, func() error {
		_, err := f.s.SolveThread(ctx, f.t, starter.ID, false, th.ID, other2.FirstPostID.String)
		return err
	}(), "post_id")
	r, err := f.s.SolveThread(ctx, f.t, starter.ID, false, th.ID, a.ID)
	if err != nil || !r.Changed || r.Thread.SolutionPostID.String != a.ID {
		t.Fatalf("solve: %+v %v", r, err)
	}
	sg, payload := f.lastSignal(t, "forum.thread.solved")
	if sg.SubjectID != th.ID || payload["post_id"] != a.ID || payload["thread_id"] != th.ID || payload["category_slug"] != f.cat.Slug ||
		payload["thread_author_user_id"] != float64(starter.ID) || payload["post_author_user_id"] != float64(helper.ID) {
		t.Errorf("solved signal %+v %v", sg, payload)
	}
	if r, err := f.s.SolveThread(ctx, f.t, starter.ID, false, th.ID, a.ID); err != nil || r.Changed {
		t.Errorf("solve again: %+v %v", r, err)
	}
	// A moderator moves the mark; a late unsolve naming the old answer
	// leaves the new one alone.
	if r, err := f.s.SolveThread(ctx, f.t, f.user, true, th.ID, b.ID); err != nil || r.Thread.SolutionPostID.String != b.ID {
		t.Fatalf("moderator's solve: %+v %v", r, err)
	}
	if _, payload := f.lastSignal(t, "forum.thread.solved"); payload["previous_post_id"] != a.ID {
		t.Errorf("previous answer in payload %v", payload)
	}
	if r, err := f.s.UnsolveThread(ctx, f.t, starter.ID, false, th.ID, a.ID); err != nil || r.Changed {
		t.Errorf("stale unsolve: %+v %v", r, err)
	}
	sol, err := f.s.SolutionOf(ctx, f.t, mustThread(t, f, th.ID), false)
	if err != nil || sol == nil || sol.Post.ID != b.ID || sol.Page != 1 {
		t.Errorf("solution shown: %+v %v", sol, err)
	}
	if r, err := f.s.UnsolveThread(ctx, f.t, starter.ID, false, th.ID, b.ID); err != nil || !r.Changed || r.Thread.Solved() {
		t.Errorf("unsolve: %+v %v", r, err)
	}
	if n := f.countSignals(t, "forum.thread.unsolved"); n != 1 {
		t.Errorf("%d unsolved signals", n)
	}
}

func mustThread(t *testing.T, f *forumFixture, id string) store.ForumThread {
	t.Helper()
	th, err := f.s.ForumThread(context.Background(), f.t, id)
	if err != nil {
		t.Fatal(err)
	}
	return th
}

func TestPinnedThreadsListFirst(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	m := newModeration(t, f)
	ctx := context.Background()
	old, _ := f.thread(t, "Old news")
	f.thread(t, "Newer")
	if d := m.do(t, store.DirectiveThreadPin, store.ForumModeration{ThreadID: old.ID}, ""); d.Status != store.DirectiveSucceeded {
		t.Fatalf("pin: %s %s", d.Status, d.LastError)
	}
	for name, list := range map[string]func() ([]store.ForumThread, store.Pager, error){
		"latest":   func() ([]store.ForumThread, store.Pager, error) { return f.s.LatestThreads(ctx, f.t, 1) },
		"category": func() ([]store.ForumThread, store.Pager, error) { return f.s.CategoryThreads(ctx, f.t, f.cat.ID, 1) },
	} {
		ths, _, err := list()
		if err != nil || len(ths) != 2 || ths[0].ID != old.ID || !ths[0].Pinned {
			t.Errorf("%s list: %+v %v", name, ths, err)
		}
	}
	m.do(t, store.DirectiveThreadPin, store.ForumModeration{ThreadID: old.ID}, "") // already pinned: no signal
	m.do(t, store.DirectiveThreadUnpin, store.ForumModeration{ThreadID: old.ID}, "")
	if got := strings.Join(f.forumSignalNames(t, store.SubjectForumThread, old.ID), ","); got != "forum.thread.created,forum.thread.pinned,forum.thread.unpinned" {
		t.Errorf("pin signals %s", got)
	}
	if ths, _, _ := f.s.LatestThreads(ctx, f.t, 1); ths[0].ID == old.ID {
		t.Error("unpinned thread still first")
	}
}

func TestFlagsHideAtThreeAndReviewBringsBack(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	ctx := context.Background()
	author := f.person(t, "Spammer")
	th, _ := f.thread(t, "Flags")
	p := f.reply(t, author.ID, th.ID, "buy things")
	flaggers := []store.User{f.person(t, "F1"), f.person(t, "F2"), f.person(t, "F3")}
	flag := func(u int64, reason, note string) (store.FlagResult, error) {
		return f.s.FlagPost(ctx, f.t, u, store.NewFlag{PostID: p.ID, Reason: reason, Note: note})
	}
	fieldErr(t, func() error { _, err := flag(flaggers[0].ID, "bored", ""); return err }(), "reason")
	fieldErr(t, func() error { _, err := flag(flaggers[0].ID, "other", " "); return err }(), "note")
	fieldErr(t, func() error { _, err := flag(flaggers[0].ID, "spam", strings.Repeat("x", 501)); return err }(), "note")
	if msg := fieldErr(t, func() error { _, err := flag(author.ID, "spam", ""); return err }(), ""); !strings.Contains(msg, "own post") {
		t.Errorf("own post: %q", msg)
	}
	for i, u := range flaggers[:2] {
		r, err := flag(u.ID, "spam", "")
		if err != nil || r.Hidden || r.Open != i+1 {
			t.Fatalf("flag %d: %+v %v", i, r, err)
		}
	}
	if msg := fieldErr(t, func() error { _, err := flag(flaggers[0].ID, "spam", ""); return err }(), ""); !strings.Contains(msg, "already") {
		t.Errorf("second flag: %q", msg)
	}
	sg, payload := f.lastSignal(t, "forum.post.flagged")
	if sg.SubjectType != store.SubjectForumFlag || sg.ActorType != "system" || payload["post_id"] != p.ID || payload["open_flags"] != float64(2) ||
		payload["post_author_user_id"] != float64(author.ID) {
		t.Errorf("flagged signal (no flagger named) %+v %v", sg, payload)
	}
	r, err := flag(flaggers[2].ID, "other", "  it is an advert  ")
	if err != nil || !r.Hidden || r.Open != 3 || r.Flag.Note != "it is an advert" {
		t.Fatalf("third flag: %+v %v", r, err)
	}
	hidden, _ := f.s.ForumPost(ctx, f.t, p.ID)
	if hidden.Status != store.PostHidden || !hidden.FlagHidden || mustThread(t, f, th.ID).Replies() != 0 {
		t.Errorf("after 3 flags: %s flag_hidden=%v", hidden.Status, hidden.FlagHidden)
	}
	if sg, payload := f.lastSignal(t, "forum.post.hidden"); sg.ActorType != "system" || payload["reason"] != "flags" {
		t.Errorf("hidden by flags %+v %v", sg, payload)
	}
	if n, _ := f.s.OpenFlaggedPosts(ctx, f.t); n != 1 {
		t.Errorf("open flagged posts %d", n)
	}
	queue, _, err := f.s.FlagQueue(ctx, f.t, true, 1)
	if err != nil || len(queue) != 1 || len(queue[0].Flags) != 3 || queue[0].Post.ID != p.ID || queue[0].Thread != "Flags" ||
		queue[0].Flags[0].UserName != "F1" {
		t.Fatalf("queue %+v %v", queue, err)
	}
	if _, err := f.s.ReviewFlags(ctx, f.t, f.user, queue[0].FlagID, "maybe"); err == nil {
		t.Error("a bad review status was accepted")
	}
	rev, err := f.s.ReviewFlags(ctx, f.t, f.user, queue[0].FlagID, store.FlagDismissed)
	if err != nil || rev.Flags != 3 || !rev.Restored {
		t.Fatalf("dismiss: %+v %v", rev, err)
	}
	back, _ := f.s.ForumPost(ctx, f.t, p.ID)
	if back.Status != store.PostPublished || back.FlagHidden || mustThread(t, f, th.ID).Replies() != 1 {
		t.Errorf("after dismissing: %s", back.Status)
	}
	if sg, payload := f.lastSignal(t, "forum.flag.reviewed"); sg.SubjectType != store.SubjectForumFlag || payload["status"] != "dismissed" || payload["flags"] != float64(3) {
		t.Errorf("reviewed signal %+v %v", sg, payload)
	}
	if again, err := f.s.ReviewFlags(ctx, f.t, f.user, queue[0].FlagID, store.FlagDismissed); err != nil || again.Flags != 0 {
		t.Errorf("review sent twice: %+v %v", again, err)
	}
	if q, _, _ := f.s.FlagQueue(ctx, f.t, true, 1); len(q) != 0 {
		t.Errorf("queue after review %+v", q)
	}
	if q, _, _ := f.s.FlagQueue(ctx, f.t, false, 1); len(q) != 1 || q[0].Flags[0].Status != store.FlagDismissed || q[0].Flags[0].Reviewer.String != "Owner" {
		t.Errorf("reviewed list %+v", q)
	}
}

func TestFlagReviewActionTakenAsksForAHide(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	m := newModeration(t, f)
	ctx := context.Background()
	th, _ := f.thread(t, "Action")
	p := f.reply(t, f.person(t, "Rude").ID, th.ID, "rude")
	r, err := f.s.FlagPost(ctx, f.t, f.person(t, "Flagger").ID, store.NewFlag{PostID: p.ID, Reason: "inappropriate"})
	if err != nil {
		t.Fatal(err)
	}
	rev, err := f.s.ReviewFlags(ctx, f.t, f.user, r.Flag.ID, store.FlagActionTaken)
	if err != nil || rev.Hide == "" {
		t.Fatalf("action taken: %+v %v", rev, err)
	}
	if d := m.wait(t, rev.Hide); d.Status != store.DirectiveSucceeded || d.RequestedByUserID != f.user {
		t.Fatalf("hide directive %s %s", d.Status, d.LastError)
	}
	if got, _ := f.s.ForumPost(ctx, f.t, p.ID); got.Status != store.PostHidden || got.FlagHidden {
		t.Errorf("post after action: %s flag_hidden=%v", got.Status, got.FlagHidden)
	}
	if _, err := f.s.ReviewFlags(ctx, f.t, f.user, "00000000-0000-0000-0000-000000000000", store.FlagReviewed); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing flag: %v", err)
	}
}

func TestPostingLimitCountsThreadsAndReplies(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	ctx := context.Background()
	limit := store.PostLimit{Posts: 3, Per: time.Minute}
	th, _ := f.thread(t, "One") // its first post counts
	f.reply(t, f.user, th.ID, "two")
	if w, err := f.s.PostingWait(ctx, f.t, f.user, limit); err != nil || w != 0 {
		t.Fatalf("under the limit: %v %v", w, err)
	}
	f.reply(t, f.user, th.ID, "three")
	w, err := f.s.PostingWait(ctx, f.t, f.user, limit)
	if err != nil || w < time.Second || w > time.Minute {
		t.Errorf("at the limit: wait %v %v", w, err)
	}
	if w, _ := f.s.PostingWait(ctx, f.t, f.person(t, "Someone else").ID, limit); w != 0 {
		t.Errorf("another person waits %v", w)
	}
	if w, _ := f.s.PostingWait(ctx, f.t, f.user, store.PostLimit{}); w != 0 {
		t.Errorf("no limit: wait %v", w)
	}
	if s := limit.String(); s != "3 posts a minute" {
		t.Errorf("limit in words %q", s)
	}
}

func TestNewThreadFormSentTwiceIsOneThread(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	ctx := context.Background()
	n := store.NewForumThread{CategoryID: f.cat.ID, Title: "Once", Body: "Only once", IdempotencyKey: storetest.Name("key")}
	a, pa, err := f.s.CreateForumThread(ctx, f.t, f.user, n)
	if err != nil {
		t.Fatal(err)
	}
	b, pb, err := f.s.CreateForumThread(ctx, f.t, f.user, n)
	if err != nil || b.ID != a.ID || pb.ID != pa.ID {
		t.Fatalf("resent: %s/%s vs %s/%s %v", b.ID, pb.ID, a.ID, pa.ID, err)
	}
	if ths, _, _ := f.s.LatestThreads(ctx, f.t, 1); len(ths) != 1 {
		t.Errorf("%d threads", len(ths))
	}
	if _, _, err := f.s.CreateForumThread(ctx, f.t, f.person(t, "Other").ID, n); !errors.Is(err, store.ErrConflict) {
		t.Errorf("someone else's key: %v", err)
	}
	if th, err := f.s.ThreadByKey(ctx, f.t, f.user, n.IdempotencyKey); err != nil || th.ID != a.ID {
		t.Errorf("thread by key: %v %v", th.ID, err)
	}
	if a.FirstPostID.String != pa.ID || a.LastPostID.String != pa.ID {
		t.Errorf("new thread's first and last post: %+v", a)
	}
}

func TestThreadListsNameTheLastPoster(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	m := newModeration(t, f)
	ctx := context.Background()
	th, _ := f.thread(t, "Who spoke last")
	ana, bo := f.person(t, "Ana Last"), f.person(t, "Bo Later")
	f.reply(t, ana.ID, th.ID, "mine")
	late := f.reply(t, bo.ID, th.ID, "later")
	last := func() string {
		ths, _, err := f.s.LatestThreads(ctx, f.t, 1)
		if err != nil || len(ths) != 1 {
			t.Fatalf("%+v %v", ths, err)
		}
		return ths[0].LastPosterName
	}
	if got := last(); got != "Bo Later" {
		t.Errorf("last poster %q", got)
	}
	m.do(t, store.DirectivePostHide, store.ForumModeration{ThreadID: th.ID, PostID: late.ID}, "")
	if got := last(); got != "Ana Last" {
		t.Errorf("last poster with the last reply hidden: %q", got)
	}
}

func idStr(id int64) string { return strconv.FormatInt(id, 10) }

// stripTags drops HTML tags, for comparing rendered text.
func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}
