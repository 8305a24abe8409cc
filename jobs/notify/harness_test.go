package notify_test

import (
	"context"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs/notify"
	"fleetprompt/jobs/signal"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var ctx = context.Background()

// org is one organization with the notifications subscriber delivering
// its signals (and nobody else's), as app/platform.go runs it.
type org struct {
	t     *testing.T
	s     *store.Store
	tn    store.Tenant
	owner int64
	bus   *signal.Bus
	cat   string // a category id
}

func newOrg(t *testing.T, s *store.Store, prefix string) *org {
	t.Helper()
	tn, owner := storetest.NewTenant(t, s, prefix)
	o := &org{t: t, s: s, tn: tn, owner: owner.ID}
	cat, err := s.CreateForumCategory(ctx, tn, owner.ID, store.NewForumCategory{Name: "Support"})
	if err != nil {
		t.Fatal(err)
	}
	o.cat = cat.ID
	return o
}

// start runs the subscriber; it starts at the tenant's latest signal, as
// it does in a running app.
func (o *org) start() {
	o.t.Helper()
	o.bus = signal.New(signal.Config{Store: o.s, DSN: storetest.DSN(), Tenants: []string{o.tn.Schema()}, Logger: storetest.Quiet()})
	o.bus.Subscribe(notify.Subscriber(o.s))
	if err := o.bus.Start(ctx); err != nil {
		o.t.Fatal(err)
	}
	o.t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		o.bus.Stop(sctx)
	})
}

// person adds a user with handle to the organization with role (status
// active unless given) and returns their id.
func (o *org) person(handle, role string, status ...string) int64 {
	o.t.Helper()
	st := store.StatusActive
	if len(status) > 0 {
		st = status[0]
	}
	id := newUser(o.t, o.s, handle)
	if _, err := o.s.DB.ExecContext(ctx, `INSERT INTO organization_memberships (organization_id, user_id, role, status)
		VALUES ($1, $2, $3, $4)`, o.tn.OrgID, id, role, st); err != nil {
		o.t.Fatal(err)
	}
	return id
}

// newUser makes a user (of no organization) whose name is the handle
// capitalised; the handle gets a unique suffix, returned by handleOf.
func newUser(t *testing.T, s *store.Store, handle string) int64 {
	t.Helper()
	var id int64
	if err := s.DB.GetContext(ctx, &id, `INSERT INTO users (email, password_hash, name, handle) VALUES ($1, 'x', $2, $3) RETURNING id`,
		storetest.Name(handle)+"@example.com", "Person "+handle, handle); err != nil {
		t.Fatal(err)
	}
	return id
}

// uniq is a handle no other test takes.
func uniq(base string) string { return base + "_" + storetest.Name("") }

// caughtUp waits until the subscriber has handled every signal so far
// but its own (notification.*, which it does not read: its cursor passes
// them with the next signal it reads).
func (o *org) caughtUp() {
	o.t.Helper()
	var head int64
	err := o.s.DB.GetContext(ctx, &head, o.tn.SQL(`SELECT coalesce(max(seq), 0) FROM {tenant}.signals WHERE name NOT LIKE 'notification.%'`))
	if err != nil {
		o.t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		var seq int64
		err := o.s.DB.GetContext(ctx, &seq, `SELECT seq FROM signal_cursors WHERE subscriber = $1 AND tenant_schema = $2`, notify.Name, o.tn.Schema())
		if err == nil && seq >= head {
			return
		}
		if time.Now().After(deadline) {
			o.t.Fatalf("the subscriber is at %d, the log at %d (%v)", seq, head, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// got is what userID has been notified of: "reason" per notification,
// sorted.
func (o *org) got(userID int64) []string {
	o.t.Helper()
	ns, _, err := o.s.Notifications(ctx, o.tn, userID, 1)
	if err != nil {
		o.t.Fatal(err)
	}
	var out []string
	for _, n := range ns {
		out = append(out, n.Reason)
	}
	sort.Strings(out)
	return out
}

func (o *org) want(who string, userID int64, reasons ...string) {
	o.t.Helper()
	got := o.got(userID)
	if len(got) != len(reasons) {
		o.t.Errorf("%s was notified of %v, want %v", who, got, reasons)
		return
	}
	sort.Strings(reasons)
	for i := range got {
		if got[i] != reasons[i] {
			o.t.Errorf("%s was notified of %v, want %v", who, got, reasons)
			return
		}
	}
}

func (o *org) thread(by int64, title, body string) store.ForumThread {
	o.t.Helper()
	th, _, err := o.s.CreateForumThread(ctx, o.tn, by, store.NewForumThread{CategoryID: o.cat, Title: title, Body: body})
	if err != nil {
		o.t.Fatal(err)
	}
	return th
}

func (o *org) reply(by int64, threadID, body string) store.ForumPost {
	o.t.Helper()
	_, p, err := o.s.CreateForumReply(ctx, o.tn, by, threadID, body)
	if err != nil {
		o.t.Fatal(err)
	}
	return p
}

// emit records a signal as the forum code does (the forum's reactions,
// solutions and flags emit these names with these payloads).
func (o *org) emit(name string, actor int64, subject store.Subject, payload map[string]any) store.Signal {
	o.t.Helper()
	var sig store.Signal
	err := o.s.Tx(ctx, func(tx *sqlx.Tx) error {
		a := store.Actor{}
		if actor != 0 {
			a = store.UserActor(actor)
		}
		var err error
		sig, _, err = o.s.EmitSignal(ctx, tx, o.tn, store.NewSignal{Name: name, Actor: a, Subject: subject, Payload: payload, Source: "forums"})
		return err
	})
	if err != nil {
		o.t.Fatal(err)
	}
	return sig
}

func postSubject(id string) store.Subject { return store.Subject{Type: store.SubjectForumPost, ID: id} }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
