package notify_test

import (
	"testing"

	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// The forum's own reactions, solution marks and flags (not signals made
// up here) notify the post's author and the moderators: the names and
// payloads the forum code emits are the ones the subscriber reads.
func TestForumCommunitySignalsNotify(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	o := newOrg(t, s, "ntforum")
	ada, bob := o.person(uniq("ada"), store.RoleMember), o.person(uniq("bob"), store.RoleMember)
	cyd := o.person(uniq("cyd"), store.RoleMember)
	adm := o.person(uniq("adm"), store.RoleAdmin)
	o.start()
	th := o.thread(ada, "Printer jams", "Help")
	p := o.reply(bob, th.ID, "Use tray two.")
	o.caughtUp()
	before := map[int64]int{ada: len(o.got(ada)), bob: len(o.got(bob)), adm: len(o.got(adm)), o.owner: len(o.got(o.owner))}

	if _, err := s.React(ctx, o.tn, ada, false, store.Reaction{PostID: p.ID, Kind: "like"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.React(ctx, o.tn, ada, false, store.Reaction{PostID: p.ID, Kind: "like"}); err != nil { // taken back
		t.Fatal(err)
	}
	if _, err := s.React(ctx, o.tn, ada, false, store.Reaction{PostID: p.ID, Kind: "like"}); err != nil { // and given again
		t.Fatal(err)
	}
	if _, err := s.SolveThread(ctx, o.tn, ada, false, th.ID, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FlagPost(ctx, o.tn, cyd, store.NewFlag{PostID: p.ID, Reason: "off_topic"}); err != nil {
		t.Fatal(err)
	}
	o.caughtUp()

	if got := o.got(bob); len(got)-before[bob] != 2 {
		t.Errorf("Bob, the author, was notified of %v (had %d), want one reaction and one solution", got, before[bob])
	}
	for who, id := range map[string]int64{"the admin": adm, "the owner": o.owner} {
		if got := o.got(id); len(got)-before[id] != 1 {
			t.Errorf("%s was notified of %v (had %d), want one flag", who, got, before[id])
		}
	}
	if n := len(o.got(ada)); n != before[ada] {
		t.Errorf("Ada, who reacted and solved, has %d notifications, had %d", n, before[ada])
	}
	if n := len(o.got(cyd)); n != 0 {
		t.Errorf("Cyd, who flagged, has %d notifications", n)
	}
}
