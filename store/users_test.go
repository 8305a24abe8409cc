package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

func TestDeriveHandle(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"Admin User":                    "admin_user",
		"José Núñez":                    "jose_nunez",
		"  Ana-María  O'Brien ":         "ana_maria_o_brien",
		"Jürgen Straße":                 "jurgen_strasse",
		"Łukasz Żółć":                   "lukasz_zolc",
		"Ærøskøbing Œuvre":              "aeroskobing_oeuvre",
		"李小龍":                           "user",
		"A":                             "user",
		"__x__":                         "user",
		"R2 D2":                         "r2_d2",
		"An extremely long name, truly": "an_extremely_long_name_truly",
		"Bartholomew Fitzgerald-Montgomery the Third": "bartholomew_fitzgerald_montgom",
	} {
		got := store.DeriveHandle(name)
		if got != want {
			t.Errorf("DeriveHandle(%q) = %q, want %q", name, got, want)
		}
		if msg := store.CheckHandle(got); msg != "" {
			t.Errorf("DeriveHandle(%q) = %q: %s", name, got, msg)
		}
	}
}

// The SQL derivation (rows inserted without a handle, and the users that
// predate handles) agrees with Go's on the names both can fold.
func TestHandleBaseInSQLMatchesGo(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	for _, name := range []string{"Admin User", "José Núñez", "Ana-María O'Brien", "Jürgen Straße", "Łukasz Żółć",
		"Ærøskøbing Œuvre", "李小龍", "A", "R2 D2", "Bartholomew Fitzgerald-Montgomery the Third", "Çağrı Ömür"} {
		var got string
		if err := s.DB.GetContext(context.Background(), &got, `SELECT user_handle_base($1)`, name); err != nil {
			t.Fatal(err)
		}
		if want := store.DeriveHandle(name); got != want {
			t.Errorf("%q: SQL %q, Go %q", name, got, want)
		}
	}
}

func TestRegistrationDerivesUniqueHandles(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	name := "Twin " + storetest.Name("tw")
	base := store.DeriveHandle(name)
	var handles []string
	for range 3 {
		slug := storetest.Name("twin")
		u, _, err := s.Register(ctx, store.Registration{OrgName: "Org " + slug, OrgSlug: slug, Name: name, Email: slug + "@example.com", Password: "password123"})
		if err != nil {
			t.Fatal(err)
		}
		handles = append(handles, u.Handle)
	}
	if want := []string{base, base + "2", base + "3"}; fmt.Sprint(handles) != fmt.Sprint(want) {
		t.Errorf("handles %v, want %v", handles, want)
	}

	// A row inserted without a handle (older code, psql) gets one too.
	var h string
	email := storetest.Name("raw") + "@example.com"
	if err := s.DB.GetContext(ctx, &h, `INSERT INTO users (email, password_hash, name) VALUES ($1, 'x', $2) RETURNING handle`, email, name); err != nil {
		t.Fatal(err)
	}
	if h != base+"4" {
		t.Errorf("raw insert got handle %q, want %q", h, base+"4")
	}
}

// Registrations of one name at once all succeed with distinct handles
// (free_user_handle serialises them).
func TestConcurrentRegistrationsGetDistinctHandles(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	name := "Crowd " + storetest.Name("cr")
	const n = 6
	var wg sync.WaitGroup
	handles := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slug := storetest.Name("crowd")
			u, _, err := s.Register(context.Background(), store.Registration{OrgName: "Org " + slug, OrgSlug: slug, Name: name,
				Email: slug + "@example.com", Password: "password123"})
			handles[i], errs[i] = u.Handle, err
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("registration %d: %v", i, errs[i])
		}
		if seen[handles[i]] || !strings.HasPrefix(handles[i], store.DeriveHandle(name)) {
			t.Errorf("handle %q twice or not derived (%v)", handles[i], handles)
		}
		seen[handles[i]] = true
	}
}

func TestUserByHandle(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	u, _ := register(t, s, storetest.Name("byh"))
	for _, q := range []string{u.Handle, strings.ToUpper(u.Handle), "@" + u.Handle, " " + u.Handle + " "} {
		got, err := s.UserByHandle(ctx, q)
		if err != nil || got.ID != u.ID {
			t.Errorf("UserByHandle(%q) = %d %v, want %d", q, got.ID, err, u.ID)
		}
	}
	for _, q := range []string{"", "x", "no_such_handle_zz9", "bad-handle", strings.Repeat("a", 31)} {
		if _, err := s.UserByHandle(ctx, q); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UserByHandle(%q): %v, want ErrNotFound", q, err)
		}
	}
}

func TestUpdateProfile(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	u, _ := register(t, s, storetest.Name("prof"))
	other, _ := register(t, s, storetest.Name("prof"))
	want := "h_" + storetest.Name("")
	got, err := s.UpdateProfile(ctx, u.ID, store.ProfileChange{Name: "  Ada Lovelace ", Handle: " @" + strings.ToUpper(want)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Ada Lovelace" || got.Handle != want {
		t.Errorf("profile %q @%s, want Ada Lovelace @%s", got.Name, got.Handle, want)
	}
	_, err = s.UpdateProfile(ctx, other.ID, store.ProfileChange{Name: "Other", Handle: want})
	wantField(t, err, "handle") // taken
	_, err = s.UpdateProfile(ctx, other.ID, store.ProfileChange{Name: "Other", Handle: "no spaces"})
	wantField(t, err, "handle")
	_, err = s.UpdateProfile(ctx, other.ID, store.ProfileChange{Name: " ", Handle: other.Handle})
	wantField(t, err, "name")
	if _, err := s.UpdateProfile(ctx, -1, store.ProfileChange{Name: "Nobody", Handle: "nobody_zz"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}
}

func TestChangePasswordEndsOtherSessions(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	u, org := register(t, s, storetest.Name("pw"))
	var tokens []string
	for _, ua := range []string{"Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", "curl/8.0", ""} {
		tok, err := s.CreateSession(ctx, u.ID, &org.ID, 3600e9, ua)
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, tok)
	}
	keep := tokens[0]
	list, err := s.UserSessions(ctx, u.ID, keep)
	if err != nil || len(list) != 3 || !list[0].Current || list[0].UserAgent == "" || list[0].OrgName != org.Name {
		t.Fatalf("sessions %+v %v", list, err)
	}

	_, err = s.ChangePassword(ctx, u.ID, "wrong-password", "new-password-1", keep)
	wantField(t, err, "current_password")
	_, err = s.ChangePassword(ctx, u.ID, "password123", "short", keep)
	wantField(t, err, "password")
	_, err = s.ChangePassword(ctx, u.ID, "", "new-password-1", keep)
	wantField(t, err, "current_password")

	ended, err := s.ChangePassword(ctx, u.ID, "password123", "new-password-1", keep)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{store.SessionHash(tokens[1]): true, store.SessionHash(tokens[2]): true}
	if len(ended) != 2 || !want[ended[0]] || !want[ended[1]] {
		t.Errorf("ended %v, want the hashes of the two other sessions", ended)
	}
	if _, err := s.LoadSession(ctx, keep); err != nil {
		t.Errorf("this session ended too: %v", err)
	}
	for _, tok := range tokens[1:] {
		if _, err := s.LoadSession(ctx, tok); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another session survived the password change: %v", err)
		}
	}
	if _, err := s.Authenticate(ctx, u.Email, "password123"); !errors.Is(err, store.ErrBadCredentials) {
		t.Errorf("old password still works: %v", err)
	}
	if _, err := s.Authenticate(ctx, u.Email, "new-password-1"); err != nil {
		t.Errorf("new password: %v", err)
	}
}

func TestDeleteOtherSessions(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	u, org := register(t, s, storetest.Name("dos"))
	other, otherOrg := register(t, s, storetest.Name("dos"))
	keep, _ := s.CreateSession(ctx, u.ID, &org.ID, 3600e9, "a")
	gone, _ := s.CreateSession(ctx, u.ID, &org.ID, 3600e9, "b")
	theirs, _ := s.CreateSession(ctx, other.ID, &otherOrg.ID, 3600e9, "c")
	ended, err := s.DeleteOtherSessions(ctx, u.ID, keep)
	if err != nil || len(ended) != 1 || ended[0] != store.SessionHash(gone) {
		t.Fatalf("ended %v %v", ended, err)
	}
	if _, err := s.LoadSession(ctx, theirs); err != nil {
		t.Errorf("another user's session ended: %v", err)
	}
	list, _ := s.UserSessions(ctx, u.ID, keep)
	if len(list) != 1 || !list[0].Current {
		t.Errorf("left %+v", list)
	}
}
