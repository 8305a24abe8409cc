package store_test

import (
	"testing"

	"fleetprompt/store"
)

// The forums' own writers keep the index true without knowing it: an
// edit is found by its new words and no longer by its old ones (the
// content trigger), and three open flags hide a post from members.
func TestSearchFollowsEditsAndFlags(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	th, _ := f.thread(t, "Pets")
	p := f.reply(t, f.user, th.ID, "Our office has a capybara.")
	if _, err := f.s.EditPost(bg, f.t, f.user, false, store.PostEdit{PostID: p.ID, Body: "Our office has an axolotl."}); err != nil {
		t.Fatal(err)
	}
	if res := f.search(t, store.SearchQuery{Text: "capybara"}); len(res.Hits) != 0 {
		t.Errorf("the edited-out word still finds %+v", res.Hits)
	}
	if res := f.search(t, store.SearchQuery{Text: "axolotl"}); len(res.Hits) != 1 || res.Hits[0].PostID != p.ID {
		t.Errorf("the edit's word finds %+v, want the post", res.Hits)
	}

	spam := f.reply(t, f.person(t, "Spammer").ID, th.ID, "Cheap narwhal tickets here.")
	for _, name := range []string{"F1", "F2", "F3"} {
		if _, err := f.s.FlagPost(bg, f.t, f.person(t, name).ID, store.NewFlag{PostID: spam.ID, Reason: "spam"}); err != nil {
			t.Fatal(err)
		}
	}
	if res := f.search(t, store.SearchQuery{Text: "narwhal"}); len(res.Hits) != 0 {
		t.Errorf("a member finds a post three flags hid: %+v", res.Hits)
	}
	if res := f.search(t, store.SearchQuery{Text: "narwhal", Moderator: true}); len(res.Hits) != 1 || res.Hits[0].PostStatus != store.PostHidden {
		t.Errorf("a moderator finds %+v, want it marked hidden", res.Hits)
	}
}
