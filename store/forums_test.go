package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fleetprompt/jobs"
	"fleetprompt/jobs/directive"
	"fleetprompt/jobs/executor"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// forumFixture is a tenant with one category, for forum tests.
type forumFixture struct {
	s    *store.Store
	t    store.Tenant
	user int64
	cat  store.ForumCategory
}

func newForum(t *testing.T) *forumFixture {
	t.Helper()
	s := storetest.Store(t)
	u, org := register(t, s, storetest.Name("forum"))
	cat, err := s.CreateForumCategory(context.Background(), org.Tenant(), u.ID, store.NewForumCategory{Name: "General Talk"})
	if err != nil {
		t.Fatal(err)
	}
	return &forumFixture{s: s, t: org.Tenant(), user: u.ID, cat: cat}
}

func (f *forumFixture) thread(t *testing.T, title string) (store.ForumThread, store.ForumPost) {
	t.Helper()
	th, p, err := f.s.CreateForumThread(context.Background(), f.t, f.user, store.NewForumThread{CategoryID: f.cat.ID, Title: title, Body: "First post of " + title})
	if err != nil {
		t.Fatal(err)
	}
	return th, p
}

// forumSignalNames lists the names of the signals about a subject, in order.
func (f *forumFixture) forumSignalNames(t *testing.T, subjectType, id string) []string {
	t.Helper()
	sigs, err := f.s.SignalsBySubjects(context.Background(), f.t, []store.Subject{{Type: subjectType, ID: id}}, 100)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sg := range sigs {
		if !strings.HasPrefix(sg.Name, "directive.") {
			names = append(names, sg.Name)
		}
	}
	return names
}

func fieldErr(t *testing.T, err error, field string) string {
	t.Helper()
	var v *store.ValidationError
	if !errors.As(err, &v) {
		t.Fatalf("want a validation error on %q, got %v", field, err)
	}
	msg, ok := v.Fields[field]
	if !ok {
		t.Fatalf("want a message on %q, got %v", field, v.Fields)
	}
	return msg
}

func TestCategoryCreateRulesAndSignal(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	ctx := context.Background()
	if f.cat.Slug != "general-talk" {
		t.Errorf("derived slug %q", f.cat.Slug)
	}
	if got := f.forumSignalNames(t, store.SubjectForumCategory, f.cat.ID); len(got) != 1 || got[0] != "forum.category.created" {
		t.Errorf("signals %v", got)
	}
	for name, tc := range map[string]struct {
		in    store.NewForumCategory
		field string
	}{
		"blank name":     {store.NewForumCategory{Name: " "}, "name"},
		"long name":      {store.NewForumCategory{Name: strings.Repeat("n", 65)}, "name"},
		"bad slug":       {store.NewForumCategory{Name: "X", Slug: "Bad_Slug"}, "slug"},
		"double dash":    {store.NewForumCategory{Name: "X", Slug: "a--b"}, "slug"},
		"long slug":      {store.NewForumCategory{Name: "X", Slug: strings.Repeat("a", 65)}, "slug"},
		"long desc":      {store.NewForumCategory{Name: "X", Description: strings.Repeat("d", 301)}, "description"},
		"duplicate slug": {store.NewForumCategory{Name: "Other", Slug: "general-talk"}, "slug"},
	} {
		_, err := f.s.CreateForumCategory(ctx, f.t, f.user, tc.in)
		if msg := fieldErr(t, err, tc.field); msg == "" {
			t.Errorf("%s: empty message", name)
		}
	}
	// 64 characters of name and 300 of description are fine (runes, not bytes).
	if _, err := f.s.CreateForumCategory(ctx, f.t, f.user, store.NewForumCategory{Name: strings.Repeat("é", 64), Slug: "accents", Description: strings.Repeat("ü", 300)}); err != nil {
		t.Errorf("limits are characters: %v", err)
	}
}

func TestArchivedCategoryTakesNoThreadsAndItsThreadsNoReplies(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	ctx := context.Background()
	th, _ := f.thread(t, "Before archive")

	_, changed, err := f.s.ArchiveForumCategory(ctx, f.t, f.user, f.cat.Slug)
	if err != nil || !changed {
		t.Fatalf("archive: changed %v, %v", changed, err)
	}
	if _, changed, _ := f.s.ArchiveForumCategory(ctx, f.t, f.user, f.cat.Slug); changed {
		t.Error("archiving twice should change nothing")
	}
	_, _, err = f.s.CreateForumThread(ctx, f.t, f.user, store.NewForumThread{CategoryID: f.cat.ID, Title: "After", Body: "x"})
	if msg := fieldErr(t, err, "category_id"); !strings.Contains(msg, "archived") {
		t.Errorf("message %q", msg)
	}
	_, _, err = f.s.CreateForumReply(ctx, f.t, f.user, th.ID, "a reply")
	if msg := fieldErr(t, err, ""); !strings.Contains(msg, "archived") {
		t.Errorf("reply into an archived category: %q", msg)
	}
	if _, changed, err := f.s.RestoreForumCategory(ctx, f.t, f.user, f.cat.Slug); err != nil || !changed {
		t.Fatalf("restore: %v %v", changed, err)
	}
	if _, _, err := f.s.CreateForumReply(ctx, f.t, f.user, th.ID, "a reply"); err != nil {
		t.Errorf("reply after restore: %v", err)
	}
	got := f.forumSignalNames(t, store.SubjectForumCategory, f.cat.ID)
	want := []string{"forum.category.created", "forum.category.archived", "forum.category.restored"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("category signals %v, want %v", got, want)
	}
	if _, _, err := f.s.ArchiveForumCategory(ctx, f.t, f.user, "no-such"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown slug: %v", err)
	}
}

func TestThreadAndFirstPostCommitTogether(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	ctx := context.Background()
	th, p := f.thread(t, "Hello")
	if th.PostCount != 1 || p.ThreadID != th.ID || p.Status != store.PostPublished || p.AuthorName != "Owner" {
		t.Errorf("thread %+v post %+v", th, p)
	}
	if got := f.forumSignalNames(t, store.SubjectForumThread, th.ID); strings.Join(got, ",") != "forum.thread.created" {
		t.Errorf("thread signals %v", got)
	}
	if got := f.forumSignalNames(t, store.SubjectForumPost, p.ID); strings.Join(got, ",") != "forum.post.created" {
		t.Errorf("post signals %v", got)
	}

	count := func() (n int) {
		f.s.DB.GetContext(ctx, &n, f.t.SQL(`SELECT (SELECT count(*) FROM {tenant}.forum_threads) + (SELECT count(*) FROM {tenant}.forum_posts) + (SELECT count(*) FROM {tenant}.signals)`))
		return n
	}
	before := count()
	// A body the database refuses (NUL bytes) fails after the thread row
	// was inserted: nothing of it may remain.
	_, _, err := f.s.CreateForumThread(ctx, f.t, f.user, store.NewForumThread{CategoryID: f.cat.ID, Title: "Broken", Body: "bad \x00 byte"})
	if err == nil {
		t.Fatal("a NUL byte should fail the insert")
	}
	if after := count(); after != before {
		t.Errorf("a failed thread left %d rows behind", after-before)
	}
}

func TestThreadValidation(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	ctx := context.Background()
	for name, tc := range map[string]struct {
		in    store.NewForumThread
		field string
	}{
		"no category":      {store.NewForumThread{Title: "T", Body: "B"}, "category_id"},
		"unknown category": {store.NewForumThread{CategoryID: "00000000-0000-0000-0000-000000000000", Title: "T", Body: "B"}, "category_id"},
		"malformed id":     {store.NewForumThread{CategoryID: "x'; drop", Title: "T", Body: "B"}, "category_id"},
		"blank title":      {store.NewForumThread{CategoryID: f.cat.ID, Title: "  ", Body: "B"}, "title"},
		"long title":       {store.NewForumThread{CategoryID: f.cat.ID, Title: strings.Repeat("t", 201), Body: "B"}, "title"},
		"blank body":       {store.NewForumThread{CategoryID: f.cat.ID, Title: "T", Body: " \n "}, "body"},
		"long body":        {store.NewForumThread{CategoryID: f.cat.ID, Title: "T", Body: strings.Repeat("b", 20001)}, "body"},
	} {
		if _, _, err := f.s.CreateForumThread(ctx, f.t, f.user, tc.in); fieldErr(t, err, tc.field) == "" {
			t.Errorf("%s: no message", name)
		}
	}
	if _, _, err := f.s.CreateForumThread(ctx, f.t, f.user, store.NewForumThread{CategoryID: f.cat.ID, Title: strings.Repeat("t", 200), Body: strings.Repeat("ß", 20000)}); err != nil {
		t.Errorf("200-character title and 20,000-character body are allowed: %v", err)
	}
}

func TestForeignIDsAreNotFound(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	other := newForum(t)
	ctx := context.Background()
	th, p := other.thread(t, "Theirs")
	if _, err := f.s.ForumThread(ctx, f.t, th.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("foreign thread: %v", err)
	}
	if _, err := f.s.ForumPost(ctx, f.t, p.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("foreign post: %v", err)
	}
	if _, _, err := f.s.CreateForumReply(ctx, f.t, f.user, th.ID, "hi"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("reply to a foreign thread: %v", err)
	}
	if _, err := f.s.ForumCategoryBySlug(ctx, f.t, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown category: %v", err)
	}
	_, _, err := f.s.CreateForumThread(ctx, f.t, f.user, store.NewForumThread{CategoryID: other.cat.ID, Title: "T", Body: "B"})
	fieldErr(t, err, "category_id")
	if _, err := f.s.ForumThread(ctx, f.t, "not-a-uuid"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("malformed id: %v", err)
	}
}

func TestRepliesPaginationAndPostPage(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	ctx := context.Background()
	th, _ := f.thread(t, "Long")
	var last store.ForumPost
	for i := 0; i < store.ForumPostsPerPage+3; i++ {
		var err error
		if th, last, err = f.s.CreateForumReply(ctx, f.t, f.user, th.ID, "reply"); err != nil {
			t.Fatal(err)
		}
	}
	if th.PostCount != store.ForumPostsPerPage+4 || th.Replies() != store.ForumPostsPerPage+3 {
		t.Errorf("counts %d/%d", th.PostCount, th.Replies())
	}
	posts, pager, err := f.s.ThreadPosts(ctx, f.t, th.ID, false, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(posts) != 4 || pager.Pages != 2 || !pager.HasPrev || pager.HasNext {
		t.Errorf("page 2: %d posts, %+v", len(posts), pager)
	}
	if posts[len(posts)-1].ID != last.ID {
		t.Error("the last reply should end page 2")
	}
	if page, err := f.s.PostPage(ctx, f.t, last, false); err != nil || page != 2 {
		t.Errorf("post page %d %v", page, err)
	}
	if _, pager, _ := f.s.ThreadPosts(ctx, f.t, th.ID, false, 99); pager.Page != 2 {
		t.Errorf("a page past the end is the last page, got %d", pager.Page)
	}
	_, _, err = f.s.CreateForumReply(ctx, f.t, f.user, th.ID, "")
	fieldErr(t, err, "body")
	_, _, err = f.s.CreateForumReply(ctx, f.t, f.user, th.ID, strings.Repeat("x", 20001))
	fieldErr(t, err, "body")
}

func TestThreadListsPaginate(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	ctx := context.Background()
	for i := 0; i < store.ForumThreadsPerPage+1; i++ {
		f.thread(t, "T")
	}
	ths, pager, err := f.s.CategoryThreads(ctx, f.t, f.cat.ID, 1)
	if err != nil || len(ths) != store.ForumThreadsPerPage || !pager.HasNext {
		t.Fatalf("page 1: %d %+v %v", len(ths), pager, err)
	}
	ths, pager, _ = f.s.LatestThreads(ctx, f.t, 2)
	if len(ths) != 1 || pager.HasNext || !pager.HasPrev {
		t.Errorf("page 2: %d %+v", len(ths), pager)
	}
	cats, _ := f.s.ForumCategories(ctx, f.t)
	if len(cats) != 1 || cats[0].ThreadCount != store.ForumThreadsPerPage+1 {
		t.Errorf("categories %+v", cats)
	}
}

// moderation runs a job runner limited to the fixture's tenant and lets
// tests wait for a directive to finish by the runner's event hook.
type moderation struct {
	f      *forumFixture
	d      *directive.Engine
	events chan jobs.Event
}

func newModeration(t *testing.T, f *forumFixture) *moderation {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := directive.New(f.s, log, executor.Forum(f.s)...)
	m := &moderation{f: f, d: d, events: make(chan jobs.Event, 100)}
	r := jobs.New(f.s.DB, jobs.Config{DSN: storetest.DSN(), Tenants: []string{f.t.Schema()}, PollInterval: 50 * time.Millisecond,
		Logger: log, OnEventFunc: func(e jobs.Event) {
			if e.Kind != jobs.EventStarted {
				m.events <- e
			}
		}})
	d.RegisterJobs(r)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r.Stop(ctx)
	})
	return m
}

// do requests a moderation and waits until its directive has finished.
func (m *moderation) do(t *testing.T, kind string, target store.ForumModeration, key string) store.Directive {
	t.Helper()
	ctx := context.Background()
	dir, _, err := m.f.s.RequestForumModeration(ctx, m.f.t, m.f.user, kind, target, key)
	if err != nil {
		t.Fatalf("request %s: %v", kind, err)
	}
	return m.wait(t, dir.ID)
}

func (m *moderation) wait(t *testing.T, id string) store.Directive {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		dir, err := m.f.s.Directive(context.Background(), m.f.t, id)
		if err != nil {
			t.Fatal(err)
		}
		if dir.Finished() {
			return dir
		}
		select {
		case <-m.events:
		case <-timeout:
			t.Fatalf("directive %s still %s", id, dir.Status)
		}
	}
}

func TestLockUnlockLockThroughDirectives(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	m := newModeration(t, f)
	ctx := context.Background()
	th, _ := f.thread(t, "Cycle")
	target := store.ForumModeration{ThreadID: th.ID}

	for i, step := range []struct {
		kind, want string
	}{
		{store.DirectiveThreadLock, store.ThreadLocked},
		{store.DirectiveThreadUnlock, store.ThreadOpen},
		{store.DirectiveThreadLock, store.ThreadLocked},
	} {
		dir := m.do(t, step.kind, target, "key-"+string(rune('a'+i)))
		if dir.Status != store.DirectiveSucceeded {
			t.Fatalf("step %d: %s %s", i, dir.Status, dir.LastError)
		}
		got, _ := f.s.ForumThread(ctx, f.t, th.ID)
		if got.Status != step.want {
			t.Fatalf("step %d: thread %s, want %s", i, got.Status, step.want)
		}
	}
	_, _, err := f.s.CreateForumReply(ctx, f.t, f.user, th.ID, "let me in")
	if msg := fieldErr(t, err, ""); !strings.Contains(msg, "locked") {
		t.Errorf("reply to a locked thread: %q", msg)
	}
	// A resent form (same key) returns the directive it made: no new one.
	again, created, err := f.s.RequestDirective(ctx, f.t, store.DirectiveRequest{Kind: store.DirectiveThreadLock, Payload: target, IdempotencyKey: "key-c",
		UserID: f.user, Subject: store.Subject{Type: store.SubjectForumThread, ID: th.ID}})
	if err != nil || created || again.Status != store.DirectiveSucceeded {
		t.Errorf("resent lock: created %v status %s err %v", created, again.Status, err)
	}
	// Locking a locked thread succeeds without a second signal.
	if dir := m.do(t, store.DirectiveThreadLock, target, "key-d"); dir.Status != store.DirectiveSucceeded {
		t.Errorf("lock of a locked thread: %s", dir.Status)
	}
	want := "forum.thread.created,forum.thread.locked,forum.thread.unlocked,forum.thread.locked"
	if got := strings.Join(f.forumSignalNames(t, store.SubjectForumThread, th.ID), ","); got != want {
		t.Errorf("thread signals\n got %s\nwant %s", got, want)
	}
	// The locked signal carries who asked and which directive made it.
	sigs, _ := f.s.SignalsBySubjects(ctx, f.t, []store.Subject{{Type: store.SubjectForumThread, ID: th.ID}}, 100)
	for _, sg := range sigs {
		if sg.Name == "forum.thread.locked" && (sg.ActorType != "user" || sg.CausationID == "" || sg.Source != "forums") {
			t.Errorf("locked signal %+v", sg)
		}
	}
}

func TestHideUnhideDeleteThroughDirectives(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	m := newModeration(t, f)
	ctx := context.Background()
	th, _ := f.thread(t, "Moderated")
	_, reply, err := f.s.CreateForumReply(ctx, f.t, f.user, th.ID, "rude words")
	if err != nil {
		t.Fatal(err)
	}
	target := store.ForumModeration{ThreadID: th.ID, PostID: reply.ID}
	visible := func() (member, moderator int, replies int) {
		ps, _, _ := f.s.ThreadPosts(ctx, f.t, th.ID, false, 1)
		all, _, _ := f.s.ThreadPosts(ctx, f.t, th.ID, true, 1)
		got, _ := f.s.ForumThread(ctx, f.t, th.ID)
		return len(ps), len(all), got.Replies()
	}
	steps := []struct {
		kind, status string
		member, reps int
	}{
		{store.DirectivePostHide, store.PostHidden, 1, 0},
		{store.DirectivePostUnhide, store.PostPublished, 2, 1},
		{store.DirectivePostHide, store.PostHidden, 1, 0},
		{store.DirectivePostDelete, store.PostDeleted, 1, 0},
		// Delete is final for unhide: the directive fails with the reason
		// and the post stays deleted; only restore brings it back.
		{store.DirectivePostUnhide, store.PostDeleted, 1, 0},
		{store.DirectivePostRestore, store.PostPublished, 2, 1},
	}
	for i, st := range steps {
		dir := m.do(t, st.kind, target, storetest.Name("k"))
		wantDir := store.DirectiveSucceeded
		if i == 4 {
			wantDir = store.DirectiveFailed
		}
		if dir.Status != wantDir {
			t.Fatalf("step %d: %s %s", i, dir.Status, dir.LastError)
		}
		if i == 4 && !strings.Contains(dir.LastError, "unhide does not bring it back") {
			t.Errorf("unhide of a deleted post: %q", dir.LastError)
		}
		p, _ := f.s.ForumPost(ctx, f.t, reply.ID)
		member, mod, reps := visible()
		if p.Status != st.status || member != st.member || mod != 2 || reps != st.reps {
			t.Errorf("step %d (%s): status %s, member sees %d, moderator %d, replies %d", i, st.kind, p.Status, member, mod, reps)
		}
	}
	if th2, _ := f.s.ForumThread(ctx, f.t, th.ID); th2.LastPostID.String != reply.ID {
		t.Errorf("last post after the restore: %q, want the reply", th2.LastPostID.String)
	}
	want := "forum.post.created,forum.post.hidden,forum.post.unhidden,forum.post.hidden,forum.post.deleted,forum.post.restored"
	if got := strings.Join(f.forumSignalNames(t, store.SubjectForumPost, reply.ID), ","); got != want {
		t.Errorf("post signals\n got %s\nwant %s", got, want)
	}
}

func TestModerationOfMissingPostFailsWithError(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	m := newModeration(t, f)
	dir := m.do(t, store.DirectivePostHide, store.ForumModeration{PostID: "00000000-0000-0000-0000-000000000000"}, "")
	if dir.Status != store.DirectiveFailed || !strings.Contains(dir.LastError, "no longer exists") {
		t.Errorf("directive %s %q", dir.Status, dir.LastError)
	}
}

func TestLockAndReplyRaceNeverLandsAReplyAfterTheLock(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	m := newModeration(t, f)
	ctx := context.Background()
	th, _ := f.thread(t, "Race")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.s.CreateForumReply(ctx, f.t, f.user, th.ID, "racing")
		}()
	}
	dir := m.do(t, store.DirectiveThreadLock, store.ForumModeration{ThreadID: th.ID}, "")
	wg.Wait()
	if dir.Status != store.DirectiveSucceeded {
		t.Fatal(dir.Status)
	}
	var late int
	// Signal seqs follow commit order (timestamps are transaction starts,
	// which say nothing about it): no post.created may come after locked.
	if err := f.s.DB.GetContext(ctx, &late, f.t.SQL(`SELECT count(*) FROM {tenant}.signals s
		WHERE s.name = 'forum.post.created' AND s.payload->>'thread_id' = $1
		  AND s.seq > (SELECT seq FROM {tenant}.signals WHERE name = 'forum.thread.locked' AND subject_id = $1)`), th.ID); err != nil {
		t.Fatal(err)
	}
	if late != 0 {
		t.Errorf("%d replies landed after the lock", late)
	}
	got, _ := f.s.ForumThread(ctx, f.t, th.ID)
	var n int
	f.s.DB.GetContext(ctx, &n, f.t.SQL(`SELECT count(*) FROM {tenant}.forum_posts WHERE thread_id = $1`), th.ID)
	if got.PostCount != n {
		t.Errorf("post_count %d, posts %d", got.PostCount, n)
	}
}

func TestThreadAuditTrailCollapsedPerDirective(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	m := newModeration(t, f)
	ctx := context.Background()
	th, first := f.thread(t, "Audited")
	_, reply, _ := f.s.CreateForumReply(ctx, f.t, f.user, th.ID, "reply")
	m.do(t, store.DirectivePostHide, store.ForumModeration{ThreadID: th.ID, PostID: reply.ID}, "")
	m.do(t, store.DirectiveThreadLock, store.ForumModeration{ThreadID: th.ID}, "")
	if d := m.do(t, store.DirectivePostHide, store.ForumModeration{ThreadID: th.ID, PostID: first.ID}, ""); d.Status != store.DirectiveSucceeded {
		t.Fatal(d.Status)
	}
	// Another thread's facts stay out of this trail.
	other, _ := f.thread(t, "Other")
	f.s.CreateForumReply(ctx, f.t, f.user, other.ID, "elsewhere")

	p, err := f.s.ThreadAudit(ctx, f.t, th.ID, store.AuditCursor{})
	if err != nil {
		t.Fatal(err)
	}
	es := p.Entries
	var names []string
	for i, e := range es {
		if i > 0 && e.At.Before(es[i-1].At) {
			t.Errorf("not oldest first at %d", i)
		}
		if e.SubjectID.String != th.ID && e.SubjectID.String != first.ID && e.SubjectID.String != reply.ID {
			t.Errorf("foreign subject %s in the trail", e.SubjectID.String)
		}
		names = append(names, e.Kind+":"+e.Name)
	}
	// One row per directive, with its outcome and the signals it caused
	// folded in; no directive.* or effect rows of their own.
	want := "signal:forum.thread.created signal:forum.post.created signal:forum.post.created " +
		"directive:forum.post.hide directive:forum.thread.lock directive:forum.post.hide"
	if got := strings.Join(names, " "); got != want || p.Earlier != "" {
		t.Errorf("trail %q (earlier %q), want %q", got, p.Earlier, want)
	}
	lock := es[4]
	var facts []string
	for _, fa := range lock.Facts {
		facts = append(facts, fa.Name)
	}
	if lock.Status != store.DirectiveSucceeded || lock.Actor() != "Owner" || !lock.DoneAt.Valid ||
		strings.Join(facts, " ") != "directive.requested directive.started forum.thread.locked directive.succeeded" {
		t.Errorf("lock row %+v, facts %v", lock, facts)
	}
	if es[0].Actor() != "Owner" {
		t.Errorf("first row %+v", es[0])
	}
	checkSingleAuditRows(t, f, es, lock)
}

// checkSingleAuditRows: the live layer's single rows match the trail's,
// and a directive's facts are folded into it (FoldedIntoDirective).
func checkSingleAuditRows(t *testing.T, f *forumFixture, es []store.AuditEntry, directive store.AuditEntry) {
	t.Helper()
	ctx := context.Background()
	for _, e := range es {
		var one store.AuditEntry
		if e.Kind == "signal" {
			sig, err := f.s.SignalBySeq(ctx, f.t, e.Seq.Int64)
			if err != nil {
				t.Fatal(err)
			}
			if folded, err := f.s.FoldedIntoDirective(ctx, f.t, sig); err != nil || folded {
				t.Errorf("signal row %s folded=%v err=%v", sig.Name, folded, err)
			}
			one, err = f.s.SignalAuditEntry(ctx, sig)
			if err != nil {
				t.Fatal(err)
			}
		} else {
			dir, err := f.s.Directive(ctx, f.t, e.Key)
			if err != nil {
				t.Fatal(err)
			}
			if one, err = f.s.DirectiveAuditEntry(ctx, f.t, dir); err != nil {
				t.Fatal(err)
			}
		}
		if one.ElementID() != e.ElementID() || one.Actor() != e.Actor() || one.Subject() != e.Subject() ||
			one.Status != e.Status || len(one.Facts) != len(e.Facts) {
			t.Errorf("single row %+v differs from trail row %+v", one, e)
		}
	}
	for _, fa := range directive.Facts {
		sig, err := f.s.SignalBySeq(ctx, f.t, fa.Seq)
		if err != nil {
			t.Fatal(err)
		}
		if folded, err := f.s.FoldedIntoDirective(ctx, f.t, sig); err != nil || !folded {
			t.Errorf("%s of %s is not folded (err %v)", sig.Name, directive.Name, err)
		}
	}
}

// A long trail shows its latest page with a cursor to the one before; the
// pages join up with nothing repeated or skipped, and a bad cursor is a
// validation error.
func TestThreadAuditPages(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	ctx := context.Background()
	th, _ := f.thread(t, "Long")
	n := 2*store.ThreadAuditPerPage + 5
	for i := 2; i < n; i++ { // the thread and its first post are two rows
		if _, _, err := f.s.CreateForumReply(ctx, f.t, f.user, th.ID, fmt.Sprintf("reply %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	var all []string
	c := store.AuditCursor{}
	for pages := 0; ; pages++ {
		p, err := f.s.ThreadAudit(ctx, f.t, th.ID, c)
		if err != nil {
			t.Fatal(err)
		}
		if pages == 0 && len(p.Entries) != store.ThreadAuditPerPage {
			t.Fatalf("latest page has %d rows", len(p.Entries))
		}
		var keys []string
		for _, e := range p.Entries {
			keys = append(keys, e.Key)
		}
		all = append(keys, all...)
		if p.Earlier == "" {
			break
		}
		if c, err = store.ParseAuditCursor("audit_before", p.Earlier); err != nil {
			t.Fatal(err)
		}
	}
	if len(all) != n {
		t.Fatalf("%d rows over the pages, want %d", len(all), n)
	}
	seen := map[string]bool{}
	for i, k := range all {
		if seen[k] || i > 0 && mustAtoi(t, k) <= mustAtoi(t, all[i-1]) {
			t.Fatalf("rows out of order or repeated: %v", all)
		}
		seen[k] = true
	}
	for _, bad := range []string{"x", "12_", "_5", "-1_3", "1_zz"} {
		if _, err := store.ParseAuditCursor("audit_before", bad); !errors.As(err, new(*store.ValidationError)) {
			t.Errorf("cursor %q: %v", bad, err)
		}
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A cache of thread pages learns which threads a batch of signals
// touched, each with its latest seq: a reply's, a moderation's (its
// directive.* signals through the post), and "all of them" for a
// category's archive.
func TestThreadsOfSignals(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	m := newModeration(t, f)
	ctx := context.Background()
	a, _ := f.thread(t, "A")
	b, firstB := f.thread(t, "B")
	from, _ := f.s.LatestSignalSeq(ctx, f.t)
	f.s.CreateForumReply(ctx, f.t, f.user, a.ID, "to a")
	m.do(t, store.DirectivePostHide, store.ForumModeration{ThreadID: b.ID, PostID: firstB.ID}, "")
	to, _ := f.s.LatestSignalSeq(ctx, f.t)
	var seqs []int64
	for s := from + 1; s <= to; s++ {
		seqs = append(seqs, s)
	}
	threads, wide, err := f.s.ThreadsOfSignals(ctx, f.t, seqs)
	if err != nil {
		t.Fatal(err)
	}
	// The reply's signal is A's latest; B's is its moderation's last.
	if wide || len(threads) != 2 || threads[a.ID] != from+1 || threads[b.ID] != to {
		t.Errorf("threads %v wide %v, want %s at %d and %s at %d", threads, wide, a.ID, from+1, b.ID, to)
	}
	if _, _, err := f.s.ArchiveForumCategory(ctx, f.t, f.user, f.cat.Slug); err != nil {
		t.Fatal(err)
	}
	last, _ := f.s.LatestSignalSeq(ctx, f.t)
	if _, wide, err := f.s.ThreadsOfSignals(ctx, f.t, []int64{last}); err != nil || !wide {
		t.Errorf("an archived category: wide %v, err %v", wide, err)
	}
}

func TestLatestSignalSeqIsTheLatestSignal(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	ctx := context.Background()
	before, err := f.s.LatestSignalSeq(ctx, f.t)
	if err != nil {
		t.Fatal(err)
	}
	f.thread(t, "Seq")
	after, _ := f.s.LatestSignalSeq(ctx, f.t)
	if after != before+2 { // forum.thread.created, forum.post.created
		t.Errorf("seq %d → %d", before, after)
	}
}

// A reply's signal is emitted by the reply's own statement, a first
// post's by EmitSignal: both must describe a post alike, with the fanout
// job and the post's HTML rendered at write time.
func TestReplySignalMatchesFirstPostSignal(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	ctx := context.Background()
	th, first := f.thread(t, "Alike")
	_, reply, err := f.s.CreateForumReply(ctx, f.t, f.user, th.ID, "a **reply**")
	if err != nil {
		t.Fatal(err)
	}
	if !reply.ContentHTML.Valid || !strings.Contains(reply.ContentHTML.String, "<strong>reply</strong>") {
		t.Errorf("reply HTML %+v", reply.ContentHTML)
	}
	sigs, err := f.s.SignalsBySubjects(ctx, f.t, []store.Subject{{Type: store.SubjectForumPost, ID: first.ID}, {Type: store.SubjectForumPost, ID: reply.ID}}, 10)
	if err != nil || len(sigs) != 2 {
		t.Fatalf("%d signals, %v", len(sigs), err)
	}
	shape := func(sg store.Signal, postID string) string {
		var p map[string]any
		if err := sg.DecodePayload(&p); err != nil {
			t.Fatal(err)
		}
		if p["post_id"] != postID || p["thread_id"] != th.ID || p["category_id"] != f.cat.ID || p["category_slug"] != f.cat.Slug || len(p) != 4 {
			t.Errorf("%s payload %v", sg.Name, p)
		}
		return strings.Join([]string{sg.Name, sg.ActorType, sg.ActorID, sg.SubjectType, sg.Source, string(sg.Metadata), sg.CorrelationID}, "|")
	}
	if a, b := shape(sigs[0], first.ID), shape(sigs[1], reply.ID); a != b {
		t.Errorf("first post's signal %s, reply's %s", a, b)
	}
	// Both went out alike, as a row and a NOTIFY: neither queued a job.
	var queued int
	if err := f.s.DB.GetContext(ctx, &queued, `SELECT count(*) FROM jobs WHERE tenant_schema = $1`, f.t.Schema()); err != nil || queued != 0 {
		t.Errorf("%d jobs queued by a thread and a reply, %v", queued, err)
	}
}
