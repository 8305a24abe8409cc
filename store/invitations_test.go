package store_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"

	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// invite makes an invitation as the owner and returns it with its token.
func (m memberOrg) invite(t *testing.T, email, role string) (store.Invitation, string) {
	t.Helper()
	inv, token, err := m.s.Invite(context.Background(), m.t, m.owner.ID, email, role)
	if err != nil {
		t.Fatalf("invite %s: %v", email, err)
	}
	return inv, token
}

func wantGone(t *testing.T, err error, state string) {
	t.Helper()
	var gone *store.InvitationGoneError
	if !errors.As(err, &gone) || gone.State != state {
		t.Fatalf("want the invitation %s, got %v", state, err)
	}
}

func TestInviteMakesInvitedMembershipAndLink(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	m := newMemberOrg(t, s, 0)
	email := storetest.Name("newbie") + "@Example.com"
	inv, token := m.invite(t, "  "+email+" ", store.RoleAdmin)
	if len(token) < 43 || inv.Email != email || inv.Role != store.RoleAdmin || inv.State(inv.CreatedAt) != store.InvitationPending {
		t.Errorf("invitation %+v token %q", inv, token)
	}
	if d := inv.ExpiresAt.Sub(inv.CreatedAt); d != store.InvitationTTL {
		t.Errorf("valid for %v, want %v", d, store.InvitationTTL)
	}
	// Only the token's hash is kept.
	var stored []byte
	if err := s.DB.GetContext(ctx, &stored, `SELECT token_hash FROM invitations WHERE id = $1`, inv.ID); err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256([]byte(token)); string(stored) != string(sum[:]) {
		t.Error("the stored token is not the token's SHA-256")
	}
	page, err := s.ListMembers(ctx, m.org.ID, store.MemberFilter{Status: store.StatusInvited})
	if err != nil || len(page.Members) != 1 {
		t.Fatalf("invited members %+v %v", page.Members, err)
	}
	if got := page.Members[0]; got.UserID != 0 || got.Email != email || got.InvitationID != inv.ID || got.Role != store.RoleAdmin || got.InvitationExpired(inv.CreatedAt) {
		t.Errorf("invited member %+v", got)
	}
	if n, _ := s.CountMembers(ctx, m.org.ID); n != 1 {
		t.Errorf("an invitation counts as a member: %d", n)
	}
	if got, err := s.InvitationByToken(ctx, token); err != nil || got.ID != inv.ID || got.OrgName != m.org.Name || got.HasAccount {
		t.Errorf("by token: %+v %v", got, err)
	}
	if names := memberSignalNames(t, s, m.t); names[len(names)-1] != "member.invited" {
		t.Errorf("signals %v", names)
	}
}

func TestInviteRefusals(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	m := newMemberOrg(t, s, 2)
	m.add(t, m.others[0], store.RoleMember)

	_, _, err := s.Invite(ctx, m.t, m.others[0].ID, "x"+storetest.Name("a")+"@example.com", store.RoleMember)
	if !errors.Is(err, store.ErrForbidden) {
		t.Errorf("a plain member invites: %v", err)
	}
	_, _, err = s.Invite(ctx, m.t, m.owner.ID, "not an email", store.RoleMember)
	wantField(t, err, "email")
	_, _, err = s.Invite(ctx, m.t, m.owner.ID, storetest.Name("a")+"@example.com", store.RoleOwner)
	wantField(t, err, "role")
	_, _, err = s.Invite(ctx, m.t, m.owner.ID, storetest.Name("a")+"@example.com", "boss")
	wantField(t, err, "role")
	_, _, err = s.Invite(ctx, m.t, m.owner.ID, m.others[0].Email, store.RoleMember)
	wantField(t, err, "email") // a member already

	email := storetest.Name("twice") + "@example.com"
	first, _ := m.invite(t, email, store.RoleMember)
	_, _, err = s.Invite(ctx, m.t, m.owner.ID, email, store.RoleAdmin)
	wantField(t, err, "email") // an open invitation
	// Adding an invited person directly would leave the invitation
	// unacceptable.
	invited := m.others[1]
	m.invite(t, invited.Email, store.RoleMember)
	_, err = s.AddMember(ctx, m.t, m.owner.ID, invited.Email, store.RoleMember)
	wantField(t, err, "email")

	// An expired invitation of the email is replaced by a new one.
	if _, err := s.DB.ExecContext(ctx, `UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = $1`, first.ID); err != nil {
		t.Fatal(err)
	}
	again, token, err := s.Invite(ctx, m.t, m.owner.ID, email, store.RoleAdmin)
	if err != nil || again.ID == first.ID || token == "" {
		t.Fatalf("re-invite after expiry: %+v %v", again, err)
	}
	old, err := s.InvitationByToken(ctx, token)
	if err != nil || old.ID != again.ID {
		t.Fatal(err)
	}
}

func TestAcceptInvitationAsNewPerson(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	m := newMemberOrg(t, s, 0)
	email := storetest.Name("joiner") + "@example.com"
	_, token := m.invite(t, email, store.RoleAdmin)
	_, _, err := s.AcceptInvitation(ctx, store.Acceptance{Token: token, Name: "", Password: "short"})
	wantField(t, err, "name")
	wantField(t, err, "password")

	name := "Jo " + storetest.Name("join")
	u, inv, err := s.AcceptInvitation(ctx, store.Acceptance{Token: token, Name: " " + name + " ", Password: "password123"})
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != email || u.Name != name || u.Handle != store.DeriveHandle(name) || inv.OrgID != m.org.ID {
		t.Errorf("user %+v invitation %+v", u, inv)
	}
	got, err := s.MemberByUserID(ctx, m.org.ID, u.ID)
	if err != nil || got.Role != store.RoleAdmin || !got.Active() {
		t.Errorf("membership %+v %v", got, err)
	}
	if _, err := s.Authenticate(ctx, email, "password123"); err != nil {
		t.Errorf("the new account cannot sign in: %v", err)
	}
	if page, _ := s.ListMembers(ctx, m.org.ID, store.MemberFilter{Status: store.StatusInvited}); len(page.Members) != 0 {
		t.Errorf("still invited: %+v", page.Members)
	}
	if names := memberSignalNames(t, s, m.t); names[len(names)-1] != "member.joined" {
		t.Errorf("signals %v", names)
	}
	// Single use.
	_, _, err = s.AcceptInvitation(ctx, store.Acceptance{Token: token, Name: "Someone", Password: "password123"})
	wantGone(t, err, store.InvitationAccepted)
	if _, _, err := s.AcceptInvitation(ctx, store.Acceptance{Token: "not-a-token"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown token: %v", err)
	}
	if _, _, err := s.AcceptInvitation(ctx, store.Acceptance{Token: token[:42] + "A", Name: "X Y", Password: "password123"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a token that was never made: %v", err)
	}
}

// Two tabs posting the same link at once: one joins, the other is told
// the link was used; one account, one membership, one member.joined.
func TestAcceptInvitationOnce(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	m := newMemberOrg(t, s, 0)
	email := storetest.Name("race") + "@example.com"
	_, token := m.invite(t, email, store.RoleMember)
	const n = 4
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = s.AcceptInvitation(ctx, store.Acceptance{Token: token, Name: "Racer", Password: "password123"})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		var gone *store.InvitationGoneError
		var v *store.ValidationError
		switch {
		case err == nil:
			ok++
		case errors.As(err, &gone), errors.As(err, &v): // used, or the account exists by then
		default:
			t.Errorf("accept: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d acceptances succeeded, want 1 (%v)", ok, errs)
	}
	var joined int
	s.DB.GetContext(ctx, &joined, m.t.SQL(`SELECT count(*) FROM {tenant}.signals WHERE name = 'member.joined'`))
	if joined != 1 {
		t.Errorf("member.joined %d times", joined)
	}
}

func TestAcceptInvitationSignedIn(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	m := newMemberOrg(t, s, 2)
	invited, stranger := m.others[0], m.others[1]
	_, token := m.invite(t, invited.Email, store.RoleMember)
	inv, _ := s.InvitationByToken(ctx, token)
	if !inv.HasAccount {
		t.Error("the invited email has an account: HasAccount is false")
	}
	// Someone else, signed in, cannot take it; it stays usable.
	if _, _, err := s.AcceptInvitation(ctx, store.Acceptance{Token: token, UserID: stranger.ID}); !errors.Is(err, store.ErrForbidden) {
		t.Errorf("another user accepts: %v", err)
	}
	// A visitor cannot make a second account with the email.
	_, _, err := s.AcceptInvitation(ctx, store.Acceptance{Token: token, Name: "Copycat", Password: "password123"})
	wantField(t, err, "")
	u, _, err := s.AcceptInvitation(ctx, store.Acceptance{Token: token, UserID: invited.ID})
	if err != nil || u.ID != invited.ID {
		t.Fatalf("accept: %+v %v", u, err)
	}
	if got, err := s.MemberByUserID(ctx, m.org.ID, invited.ID); err != nil || !got.Active() || got.Role != store.RoleMember {
		t.Errorf("membership %+v %v", got, err)
	}
}

func TestExpiredAndRevokedInvitations(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	m := newMemberOrg(t, s, 1)
	other := newMemberOrg(t, s, 0)
	m.add(t, m.others[0], store.RoleMember)

	expired, expiredToken := m.invite(t, storetest.Name("late")+"@example.com", store.RoleMember)
	s.DB.ExecContext(ctx, `UPDATE invitations SET expires_at = now() - interval '1 second' WHERE id = $1`, expired.ID)
	_, _, err := s.AcceptInvitation(ctx, store.Acceptance{Token: expiredToken, Name: "Late", Password: "password123"})
	wantGone(t, err, store.InvitationExpired)

	inv, token := m.invite(t, storetest.Name("rev")+"@example.com", store.RoleAdmin)
	if _, err := s.RevokeInvitation(ctx, other.t, other.owner.ID, inv.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another organization revokes it: %v", err)
	}
	if _, err := s.RevokeInvitation(ctx, m.t, m.others[0].ID, inv.ID); !errors.Is(err, store.ErrForbidden) {
		t.Errorf("a plain member revokes it: %v", err)
	}
	got, err := s.RevokeInvitation(ctx, m.t, m.owner.ID, inv.ID)
	if err != nil || !got.RevokedAt.Valid {
		t.Fatalf("revoke: %+v %v", got, err)
	}
	if _, err := s.RevokeInvitation(ctx, m.t, m.owner.ID, inv.ID); err != nil {
		t.Errorf("revoking twice: %v", err)
	}
	_, _, err = s.AcceptInvitation(ctx, store.Acceptance{Token: token, Name: "Too Late", Password: "password123"})
	wantGone(t, err, store.InvitationRevoked)
	var rows int
	s.DB.GetContext(ctx, &rows, `SELECT count(*) FROM organization_memberships WHERE id = $1`, inv.MembershipID)
	if rows != 0 {
		t.Error("the revoked invitation's membership is still there")
	}
	var revoked int
	s.DB.GetContext(ctx, &revoked, m.t.SQL(`SELECT count(*) FROM {tenant}.signals WHERE name = 'member.invitation_revoked'`))
	if revoked != 1 {
		t.Errorf("member.invitation_revoked %d times, want 1", revoked)
	}

	// An accepted invitation cannot be revoked: the member is disabled instead.
	acc, accToken := m.invite(t, storetest.Name("acc")+"@example.com", store.RoleMember)
	if _, _, err := s.AcceptInvitation(ctx, store.Acceptance{Token: accToken, Name: "Accepted", Password: "password123"}); err != nil {
		t.Fatal(err)
	}
	_, err = s.RevokeInvitation(ctx, m.t, m.owner.ID, acc.ID)
	wantField(t, err, "")
}
