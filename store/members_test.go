package store_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"

	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// memberOrg is an organization with its owner and a few more registered
// users (each owning an organization of their own), ready to be added.
type memberOrg struct {
	s      *store.Store
	org    store.Organization
	t      store.Tenant
	owner  store.User
	others []store.User
}

func newMemberOrg(t *testing.T, s *store.Store, others int) memberOrg {
	t.Helper()
	owner, org := register(t, s, storetest.Name("mem"))
	m := memberOrg{s: s, org: org, t: org.Tenant(), owner: owner}
	for range others {
		u, _ := register(t, s, storetest.Name("usr"))
		m.others = append(m.others, u)
	}
	return m
}

func (m memberOrg) add(t *testing.T, u store.User, role string) {
	t.Helper()
	if _, err := m.s.AddMember(context.Background(), m.t, m.owner.ID, u.Email, role); err != nil {
		t.Fatalf("add %s as %s: %v", u.Email, role, err)
	}
}

func memberSignalNames(t *testing.T, s *store.Store, tn store.Tenant) []string {
	t.Helper()
	sigs, err := s.LatestSignals(context.Background(), tn, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(sigs) - 1; i >= 0; i-- {
		out = append(out, sigs[i].Name)
	}
	return out
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var v *store.ValidationError
	if !errors.As(err, &v) || v.Fields[field] == "" {
		t.Fatalf("want a message on %q, got %v", field, err)
	}
}

func TestAddMember(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	m := newMemberOrg(t, s, 2)
	u := m.others[0]

	got, err := s.AddMember(ctx, m.t, m.owner.ID, "  "+u.Email+" ", store.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != u.ID || got.Role != store.RoleAdmin || got.Status != store.StatusActive {
		t.Errorf("added %+v", got)
	}
	sigs, _ := s.LatestSignals(ctx, m.t, 1)
	if len(sigs) != 1 || sigs[0].Name != "member.added" || sigs[0].SubjectID != strconv.FormatInt(u.ID, 10) || sigs[0].ActorID != strconv.FormatInt(m.owner.ID, 10) {
		t.Errorf("signal %+v", sigs)
	}

	_, err = s.AddMember(ctx, m.t, m.owner.ID, u.Email, store.RoleMember)
	wantField(t, err, "email") // already a member
	_, err = s.AddMember(ctx, m.t, m.owner.ID, "nobody-"+storetest.Name("x")+"@example.com", store.RoleMember)
	wantField(t, err, "email")
	_, err = s.AddMember(ctx, m.t, m.owner.ID, m.others[1].Email, "root")
	wantField(t, err, "role")

	// An admin adds members and admins, never owners.
	if _, err := s.AddMember(ctx, m.t, u.ID, m.others[1].Email, store.RoleOwner); !errors.Is(err, store.ErrForbidden) {
		t.Errorf("admin adding an owner: %v", err)
	}
	if _, err := s.AddMember(ctx, m.t, u.ID, m.others[1].Email, store.RoleMember); err != nil {
		t.Errorf("admin adding a member: %v", err)
	}
	// A plain member adds no one.
	third, _ := register(t, s, storetest.Name("usr"))
	if _, err := s.AddMember(ctx, m.t, m.others[1].ID, third.Email, store.RoleMember); !errors.Is(err, store.ErrForbidden) {
		t.Errorf("member adding: %v", err)
	}
}

func TestUpdateMemberRolesAndStatus(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	m := newMemberOrg(t, s, 2)
	admin, member := m.others[0], m.others[1]
	m.add(t, admin, store.RoleAdmin)
	m.add(t, member, store.RoleMember)

	if _, err := s.UpdateMember(ctx, m.t, admin.ID, member.ID, store.MemberChange{Role: store.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateMember(ctx, m.t, admin.ID, member.ID, store.MemberChange{Status: store.StatusDisabled}); err != nil {
		t.Fatal(err)
	}
	got, err := s.UpdateMember(ctx, m.t, admin.ID, member.ID, store.MemberChange{Role: store.RoleMember, Status: store.StatusActive})
	if err != nil {
		t.Fatal(err)
	}
	if got.Role != store.RoleMember || got.Status != store.StatusActive {
		t.Errorf("after change %+v", got)
	}
	// Nothing to change: nothing emitted.
	if _, err := s.UpdateMember(ctx, m.t, admin.ID, member.ID, store.MemberChange{Role: store.RoleMember}); err != nil {
		t.Fatal(err)
	}
	want := []string{"member.added", "member.added", "member.role_changed", "member.disabled", "member.role_changed", "member.enabled"}
	if got := memberSignalNames(t, s, m.t); !sameList(got, want) {
		t.Errorf("signals %v, want %v", got, want)
	}

	// Admins may not touch owners or make them.
	if _, err := s.UpdateMember(ctx, m.t, admin.ID, member.ID, store.MemberChange{Role: store.RoleOwner}); !errors.Is(err, store.ErrForbidden) {
		t.Errorf("admin making an owner: %v", err)
	}
	if _, err := s.UpdateMember(ctx, m.t, admin.ID, m.owner.ID, store.MemberChange{Status: store.StatusDisabled}); !errors.Is(err, store.ErrForbidden) {
		t.Errorf("admin disabling an owner: %v", err)
	}
	// Plain members change nothing.
	if _, err := s.UpdateMember(ctx, m.t, member.ID, admin.ID, store.MemberChange{Role: store.RoleMember}); !errors.Is(err, store.ErrForbidden) {
		t.Errorf("member changing a role: %v", err)
	}
	// A user of another organization is not found here.
	if _, err := s.UpdateMember(ctx, m.t, m.owner.ID, 1<<50, store.MemberChange{Role: store.RoleMember}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("foreign user: %v", err)
	}
	_, err = s.UpdateMember(ctx, m.t, m.owner.ID, member.ID, store.MemberChange{Status: store.StatusInvited})
	wantField(t, err, "status")
}

func TestLastOwnerCannotBeDemotedOrDisabled(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	m := newMemberOrg(t, s, 1)
	second := m.others[0]

	_, err := s.UpdateMember(ctx, m.t, m.owner.ID, m.owner.ID, store.MemberChange{Role: store.RoleAdmin})
	wantField(t, err, "role")
	_, err = s.UpdateMember(ctx, m.t, m.owner.ID, m.owner.ID, store.MemberChange{Status: store.StatusDisabled})
	wantField(t, err, "status")

	// With a second owner, one may step down; a disabled owner does not
	// count as the remaining one.
	m.add(t, second, store.RoleOwner)
	if _, err := s.UpdateMember(ctx, m.t, m.owner.ID, second.ID, store.MemberChange{Status: store.StatusDisabled}); err != nil {
		t.Fatal(err)
	}
	_, err = s.UpdateMember(ctx, m.t, m.owner.ID, m.owner.ID, store.MemberChange{Role: store.RoleMember})
	wantField(t, err, "role")
	if _, err := s.UpdateMember(ctx, m.t, m.owner.ID, second.ID, store.MemberChange{Status: store.StatusActive}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateMember(ctx, m.t, m.owner.ID, m.owner.ID, store.MemberChange{Role: store.RoleMember}); err != nil {
		t.Fatalf("stepping down beside another owner: %v", err)
	}
}

// Two owners demote each other at the same moment. Counting owners alone
// would let both through (each sees the other still an owner) and leave
// none; the membership lock makes the second wait, see that its actor is
// no longer an owner, and fail.
func TestOwnersDemotingEachOtherConcurrentlyKeepOne(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	for range 5 {
		m := newMemberOrg(t, s, 1)
		a, b := m.owner, m.others[0]
		m.add(t, b, store.RoleOwner)

		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, pair := range [][2]int64{{a.ID, b.ID}, {b.ID, a.ID}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = s.UpdateMember(ctx, m.t, pair[0], pair[1], store.MemberChange{Role: store.RoleAdmin})
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if !errors.Is(err, store.ErrForbidden) {
				var v *store.ValidationError
				if !errors.As(err, &v) {
					t.Fatalf("unexpected error: %v", err)
				}
			}
		}
		var owners int
		if err := s.DB.GetContext(ctx, &owners, `SELECT count(*) FROM organization_memberships
			WHERE organization_id = $1 AND role = 'owner' AND status = 'active'`, m.org.ID); err != nil {
			t.Fatal(err)
		}
		if ok != 1 || owners != 1 {
			t.Fatalf("%d demotions succeeded, %d owners left (errors %v); want 1 and 1", ok, owners, errs)
		}
	}
}

func TestListMembersPagesAndFilters(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	m := newMemberOrg(t, s, 4)
	for i, u := range m.others {
		role := store.RoleMember
		if i%2 == 0 {
			role = store.RoleAdmin
		}
		m.add(t, u, role)
	}
	var seen []int64
	var after int64
	for pages := 0; ; pages++ {
		p, err := s.ListMembers(ctx, m.org.ID, store.MemberFilter{After: after, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, mb := range p.Members {
			seen = append(seen, mb.UserID)
		}
		if p.Next == 0 {
			break
		}
		after = p.Next
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	want := []int64{m.owner.ID}
	for _, u := range m.others {
		want = append(want, u.ID)
	}
	if len(seen) != len(want) {
		t.Fatalf("paged %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("paged %v, want %v", seen, want)
		}
	}
	p, err := s.ListMembers(ctx, m.org.ID, store.MemberFilter{Role: store.RoleAdmin})
	if err != nil || len(p.Members) != 2 {
		t.Errorf("admins: %v %v", p.Members, err)
	}
	p, err = s.ListMembers(ctx, m.org.ID, store.MemberFilter{Query: strings.ToUpper(m.others[3].Email[:len(m.others[3].Email)-12])})
	if err != nil || len(p.Members) != 1 || p.Members[0].UserID != m.others[3].ID {
		t.Errorf("query: %v %v", p.Members, err)
	}
}

func sameList(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
