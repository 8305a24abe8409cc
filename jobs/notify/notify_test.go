package notify_test

import (
	"reflect"
	"testing"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs/notify"
	"fleetprompt/jobs/signal"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// A reply notifies the thread's starter and everyone who posted in it
// before, never the replier, nor a member disabled since, nor someone who
// posted only after. Replies not read yet are one notification per person
// and thread, counting them; once it is read, the next reply is a new one.
func TestReplyNotifiesStarterAndEarlierPosters(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	o := newOrg(t, s, "ntrep")
	ada, bob, cid := o.person(uniq("ada"), store.RoleMember), o.person(uniq("bob"), store.RoleMember), o.person(uniq("cid"), store.RoleMember)
	gone := o.person(uniq("gone"), store.RoleMember)
	o.start()

	th := o.thread(ada, "Printer jams", "It jams on page two.")
	o.reply(gone, th.ID, "Same here.")
	if _, err := s.DB.ExecContext(ctx, `UPDATE organization_memberships SET status = 'disabled' WHERE user_id = $1`, gone); err != nil {
		t.Fatal(err)
	}
	o.reply(bob, th.ID, "Try the other tray.")
	o.reply(cid, th.ID, "Or clean the roller.")
	o.caughtUp()

	o.want("the starter", ada, "reply")
	o.want("an earlier poster", bob, "reply")
	o.want("the last replier", cid)
	o.want("a member disabled since", gone)
	o.want("the owner, who never posted", o.owner)
	if ns, _, err := s.Notifications(ctx, o.tn, ada, 1); err != nil || len(ns) != 1 || ns[0].Count != 3 {
		t.Fatalf("the starter's notification: %+v %v, want one counting 3 replies", ns, err)
	}

	if _, err := s.MarkAllNotificationsRead(ctx, o.tn, ada); err != nil {
		t.Fatal(err)
	}
	o.reply(bob, th.ID, "Did it work?")
	o.caughtUp()
	o.want("the starter, after reading", ada, "reply", "reply")
	o.want("the replier before", cid, "reply")
}

// An agent's answer is a reply like any other: the starter hears that
// the agent answered.
func TestAgentAnswerNotifiesTheStarter(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	o := newOrg(t, s, "ntagt")
	ada := o.person(uniq("ada"), store.RoleMember)
	var agentID string
	if err := s.DB.GetContext(ctx, &agentID, o.tn.SQL(`INSERT INTO {tenant}.agents (name, state) VALUES ('Ticket Manager', 'active') RETURNING id`)); err != nil {
		t.Fatal(err)
	}
	o.start()
	th := o.thread(ada, "Printer jams", "Help")
	if err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		_, err := s.CreatePostTx(ctx, tx, o.tn, store.NewPost{ThreadID: th.ID, Body: "Try the other tray.", Author: store.Author{Type: "agent", ID: agentID}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	o.caughtUp()
	o.want("the starter", ada, "reply")
}

// A mention notifies the member of that handle once (a reply that also
// mentions you is one notification), and nobody for an agent's handle,
// your own, a stranger's, or one quoted in code.
func TestMentionsNotifyMembersOnce(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	o := newOrg(t, s, "ntmen")
	other := newOrg(t, s, "ntmenx")
	hAda, hBob, hCid, hOut := uniq("ada"), uniq("bob"), uniq("cid"), uniq("out")
	ada, bob, cid := o.person(hAda, store.RoleMember), o.person(hBob, store.RoleMember), o.person(hCid, store.RoleMember)
	stranger := other.person(hOut, store.RoleMember)
	o.start()

	// An opening post mentions: Bob (a reply would not notify anyone yet).
	th := o.thread(ada, "Printer jams", "@"+hBob+" do you know? cc @research-assistant, @"+hAda+", @"+hOut+" and `@"+hCid+"`")
	o.reply(bob, th.ID, "Let me look.")
	// Ada's reply mentions Bob, who also posted: one notification.
	o.reply(ada, th.ID, "Thanks @"+hBob+"!")
	o.caughtUp()

	o.want("Bob", bob, "mention", "mention")
	o.want("Ada, the starter (Bob replied)", ada, "reply")
	o.want("Cid, quoted in code", cid)
	o.want("a member of another organization", stranger)
	if n := other.got(stranger); len(n) != 0 {
		t.Errorf("the stranger's own organization has %v", n)
	}
}

// An edit that adds a mention notifies the new name once, however often
// the post is edited.
func TestEditAddingMentionNotifiesOnce(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	o := newOrg(t, s, "ntedit")
	hBob := uniq("bob")
	ada, bob := o.person(uniq("ada"), store.RoleMember), o.person(hBob, store.RoleMember)
	o.start()
	th := o.thread(ada, "Printer jams", "Anyone?")
	p := o.reply(ada, th.ID, "Still jammed.")
	for range 2 {
		o.emit("forum.post.edited", ada, postSubject(p.ID), map[string]any{"post_id": p.ID, "thread_id": th.ID})
	}
	if _, err := s.DB.ExecContext(ctx, o.tn.SQL(`UPDATE {tenant}.forum_posts SET content = $2 WHERE id = $1`), p.ID, "Still jammed, @"+hBob+"?"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		o.emit("forum.post.edited", ada, postSubject(p.ID), map[string]any{"post_id": p.ID, "thread_id": th.ID})
	}
	o.caughtUp()
	o.want("Bob", bob, "mention")
}

// Reactions, solutions and moderation tell the post's author, once per
// reactor, never for their own act; flags and approvals tell the
// moderators; a failed request tells whoever asked.
func TestAuthorsModeratorsAndRequesters(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	o := newOrg(t, s, "ntauth")
	ada, bob := o.person(uniq("ada"), store.RoleMember), o.person(uniq("bob"), store.RoleMember)
	adm := o.person(uniq("adm"), store.RoleAdmin)
	o.start()
	th := o.thread(ada, "Printer jams", "Help")
	p := o.reply(bob, th.ID, "Use tray two.")
	o.caughtUp()
	base := len(o.got(ada))

	where := map[string]any{"post_id": p.ID, "thread_id": th.ID}
	o.emit("forum.post.reacted", ada, postSubject(p.ID), with(where, "kind", "like"))
	o.emit("forum.post.unreacted", ada, postSubject(p.ID), with(where, "kind", "like"))
	o.emit("forum.post.reacted", ada, postSubject(p.ID), with(where, "kind", "like"))
	o.emit("forum.post.reacted", bob, postSubject(p.ID), with(where, "kind", "heart")) // your own post
	o.emit("forum.thread.solved", ada, store.Subject{Type: store.SubjectForumThread, ID: th.ID}, where)
	o.emit("forum.post.flagged", 0, store.Subject{Type: "forum_flag", ID: "f1"}, with(where, "flag_id", "f1"))
	o.emit("forum.post.hidden", adm, postSubject(p.ID), where)
	o.emit("workflow.step.waiting", 0, store.Subject{Type: store.SubjectWorkflowRun, ID: th.ID},
		map[string]any{"run_id": th.ID, "workflow_name": "Service Request", "step_id": "approve"})
	o.failedRequest(bob, store.Subject{Type: "package", ID: "field-service"})
	o.failedRequest(0, store.Subject{Type: "package", ID: "field-service"}) // nobody asked
	o.caughtUp()

	o.want("Bob, the author", bob, "reaction", "solution", "moderation", "request_failed")
	o.want("the admin", adm, "flag", "approval")
	o.want("the owner", o.owner, "flag", "approval")
	if n := len(o.got(ada)); n != base {
		t.Errorf("Ada, who reacted and solved, has %d notifications, had %d", n, base)
	}
}

// failedRequest requests a package.install as userID and fails it, as
// the directive engine does.
func (o *org) failedRequest(userID int64, subject store.Subject) {
	o.t.Helper()
	if err := o.s.Tx(ctx, func(tx *sqlx.Tx) error {
		d, _, err := o.s.RequestDirectiveTx(ctx, tx, o.tn, store.DirectiveRequest{Kind: store.DirectivePackageInstall,
			Payload: map[string]string{"slug": subject.ID}, UserID: userID, Subject: subject})
		if err != nil {
			return err
		}
		_, err = o.s.FailDirectiveTx(ctx, tx, o.tn, d.ID, "tier too low")
		return err
	}); err != nil {
		o.t.Fatal(err)
	}
}

func with(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{k: v}
	for a, b := range m {
		out[a] = b
	}
	return out
}

// A signal delivered twice (a forced replay of everything) notifies
// nobody again, and moves no badge again.
func TestReplayNotifiesNobodyTwice(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	o := newOrg(t, s, "ntonce")
	hBob := uniq("bob")
	ada, bob := o.person(uniq("ada"), store.RoleMember), o.person(hBob, store.RoleMember)
	o.start()
	th := o.thread(ada, "Printer jams", "cc @"+hBob)
	o.reply(bob, th.ID, "On it")
	o.caughtUp()
	before := o.counts(ada, bob)

	rep, err := o.bus.Replay(ctx, signal.ReplayFilter{Tenant: &o.tn, Force: true})
	if err != nil || rep.Delivered == 0 {
		t.Fatalf("replay: %+v %v", rep, err)
	}
	o.caughtUp()
	if after := o.counts(ada, bob); !reflect.DeepEqual(after, before) {
		t.Errorf("after a replay %v, before %v", after, before)
	}
	o.want("Ada", ada, "reply")
	o.want("Bob", bob, "mention")
}

// counts is each person's notifications and the notification.created
// signals the tenant has.
func (o *org) counts(ids ...int64) []int {
	o.t.Helper()
	var out []int
	for _, id := range ids {
		out = append(out, len(o.got(id)))
	}
	var sigs int
	if err := o.s.DB.GetContext(ctx, &sigs, o.tn.SQL(`SELECT count(*) FROM {tenant}.signals WHERE name = $1`), store.SignalNotificationCreated); err != nil {
		o.t.Fatal(err)
	}
	return append(out, sigs)
}

// Nothing about a member's private chat notifies anyone: not a request
// made from a conversation, not a signal of it.
func TestChatNotifiesNobody(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	o := newOrg(t, s, "ntchat")
	hBob := uniq("bob")
	ada, bob := o.person(uniq("ada"), store.RoleMember), o.person(hBob, store.RoleMember)
	o.start()
	o.failedRequest(ada, store.Subject{Type: "chat_conversation", ID: "c1"})
	o.emit("forum.post.created", ada, store.Subject{Type: "chat_message", ID: "m1"}, map[string]any{"text": "@" + hBob})
	o.emit("forum.post.flagged", ada, store.Subject{Type: "chat_message", ID: "m1"}, nil)
	o.caughtUp()
	o.want("Ada", ada)
	o.want("Bob", bob)
	o.want("the owner", o.owner)
}

func TestMentions(t *testing.T) {
	cases := map[string][]string{
		"@ada and @Bob_2, @ada again":             {"ada", "bob_2"},
		"mail ada@example.com or @research-agent": nil,
		"(@cid) @x @":                {"cid"},
		"```\n@dan\n``` `@eve` @fay": {"fay"},
	}
	for in, want := range cases {
		if got := notify.Mentions(in); !reflect.DeepEqual(got, want) {
			t.Errorf("Mentions(%q) = %v, want %v", in, got, want)
		}
	}
}
