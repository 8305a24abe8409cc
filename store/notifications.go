package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// A person's notifications in an organization (SPEC §16). The
// notifications subscriber (jobs/notify) decides who hears of a signal
// and writes the rows with AddNotificationsTx in its delivery's
// transaction; the inbox reads them back with the signals they point at.
// Each change to a person's unread count emits a notification.* signal
// with their user_id, which the live layer routes to that person's "me"
// topic only (the header's badge) and nowhere else.

// Why a person is notified.
const (
	NotifyReply         = "reply"          // a reply in a thread they started or posted in
	NotifyMention       = "mention"        // an @mention of their handle
	NotifyReaction      = "reaction"       // a reaction to their post
	NotifySolution      = "solution"       // their reply marked as the solution
	NotifyFlag          = "flag"           // a flagged post (moderators)
	NotifyModeration    = "moderation"     // their post hidden or deleted
	NotifyRequestFailed = "request_failed" // a directive they asked for failed
	NotifyRequestDone   = "request_done"   // an install or uninstall they asked for finished
	NotifyApproval      = "approval"       // a workflow run waits for an approval (owners, admins)
)

// Signal names of a person's notifications changing: their payload's
// user_id is whose.
const (
	SignalNotificationCreated = "notification.created"
	SignalNotificationRead    = "notification.read"
)

// NotificationsPerPage is how many notifications one inbox page shows.
const NotificationsPerPage = 20

// UnreadCap bounds the unread count the header shows ("99+" beyond): the
// count reads at most this many index entries, whatever the backlog.
const UnreadCap = 100

// NewNotification is one notification to make.
type NewNotification struct {
	UserID    int64
	Reason    string
	SignalSeq int64
	// DedupeKey names what the notification is about, per person: a
	// second one with the same key is not made ("post:<id>" for a
	// mention, "reaction:<post>:<user>", "signal:<seq>").
	DedupeKey string
	// CollapseKey, when set ("thread:<id>", for replies), makes the
	// notification one per person and key while unread: a later one adds
	// to the unread one's count and moves it up the inbox rather than
	// being a row of its own (the unread count stays, so no badge moves).
	// Once read, the next one starts a new notification. DedupeKey is
	// then not used.
	CollapseKey string
	// Replayed says the signal was delivered before (a forced replay): a
	// collapsing notification is made only if none of the person's with
	// its key already covers the signal.
	Replayed bool
}

// Notification is one row of a person's inbox.
type Notification struct {
	ID        string       `db:"id"`
	UserID    int64        `db:"user_id"`
	Reason    string       `db:"reason"`
	SignalSeq int64        `db:"signal_seq"`
	CreatedAt time.Time    `db:"created_at"`
	ReadAt    sql.NullTime `db:"read_at"`
	// Count is how many signals it stands for: more than one when replies
	// collapsed into it (SignalSeq is the first of them).
	Count int `db:"count"`
	// Signal is the fact it is about (filled by Notifications).
	Signal Signal `db:"-"`
}

// Unread reports whether the person has not marked it read.
func (n Notification) Unread() bool { return !n.ReadAt.Valid }

const notificationColumns = `id, user_id, reason, signal_seq, created_at, read_at, count`

// AddNotificationsTx writes ns in tx, in one statement. A recipient who
// is not an active member of t's organization (disabled, or of another
// organization) gets nothing, and neither does one who had the same
// DedupeKey before, so a signal delivered again adds nothing; collapsing
// ones (CollapseKey) are folded per person and key first, then added to
// the person's unread one of that key or made. Each person whose unread
// count grew has notification.created emitted for them in tx (one signal
// per person per call, all in one statement). It returns those people.
func (s *Store) AddNotificationsTx(ctx context.Context, tx *sqlx.Tx, t Tenant, ns []NewNotification) ([]int64, error) {
	ns, err := s.uncoveredTx(ctx, tx, t, ns)
	if err != nil || len(ns) == 0 {
		return nil, err
	}
	var plain notificationArrays
	folded := foldNotifications(ns)
	for _, n := range ns {
		if n.CollapseKey == "" {
			plain.add(n.UserID, n.Reason, n.SignalSeq, n.SignalSeq, 1, n.DedupeKey)
		}
	}
	var got []int64
	err = s.selectPrepared(ctx, tx, &got, t.SQL(`WITH plain AS (
			INSERT INTO {tenant}.notifications (user_id, reason, signal_seq, dedupe_key)
			SELECT n.user_id, n.reason, n.signal_seq, n.key
			FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[]) AS n(user_id, reason, signal_seq, key)
			WHERE EXISTS (SELECT 1 FROM public.organization_memberships m
				WHERE m.organization_id = $11 AND m.user_id = n.user_id AND m.status = 'active')
			ON CONFLICT (user_id, dedupe_key) DO NOTHING
			RETURNING user_id
		), folded AS (
			INSERT INTO {tenant}.notifications AS o (user_id, reason, signal_seq, last_seq, count, collapse_key, dedupe_key)
			SELECT n.user_id, n.reason, n.first_seq, n.last_seq, n.count, n.key, n.key || ':' || n.first_seq
			FROM unnest($5::bigint[], $6::text[], $7::bigint[], $8::bigint[], $9::int[], $10::text[])
				AS n(user_id, reason, first_seq, last_seq, count, key)
			WHERE EXISTS (SELECT 1 FROM public.organization_memberships m
				WHERE m.organization_id = $11 AND m.user_id = n.user_id AND m.status = 'active')
			ON CONFLICT (user_id, collapse_key) WHERE read_at IS NULL AND collapse_key IS NOT NULL DO UPDATE
				SET count = o.count + EXCLUDED.count, last_seq = EXCLUDED.last_seq, created_at = now()
				WHERE o.last_seq < EXCLUDED.signal_seq
			RETURNING user_id, xmax = 0 AS made
		)
		SELECT user_id FROM plain UNION ALL SELECT user_id FROM folded WHERE made`),
		pq.Array(plain.users), pq.Array(plain.reasons), pq.Array(plain.first), pq.Array(plain.keys),
		pq.Array(folded.users), pq.Array(folded.reasons), pq.Array(folded.first), pq.Array(folded.last),
		pq.Array(folded.counts), pq.Array(folded.keys), t.OrgID)
	if err != nil {
		return nil, fmt.Errorf("add notifications: %w", err)
	}
	counts := map[int64]int{}
	for _, u := range got {
		counts[u]++
	}
	return s.emitNotificationsCreated(ctx, tx, t, counts)
}

// notificationArrays are notifications as the columns unnest reads.
type notificationArrays struct {
	users         []int64
	reasons, keys []string
	first, last   []int64
	counts        []int64
}

func (a *notificationArrays) add(user int64, reason string, first, last int64, count int, key string) {
	a.users, a.reasons, a.keys = append(a.users, user), append(a.reasons, reason), append(a.keys, key)
	a.first, a.last, a.counts = append(a.first, first), append(a.last, last), append(a.counts, int64(count))
}

// foldNotifications folds the collapsing notifications of ns into one per
// person and key: its first signal, its last, how many (a statement may
// change a row once only). The first reason given wins.
func foldNotifications(ns []NewNotification) notificationArrays {
	type fk struct {
		user int64
		key  string
	}
	at := map[fk]int{}
	var out notificationArrays
	for _, n := range ns {
		if n.CollapseKey == "" {
			continue
		}
		k := fk{n.UserID, n.CollapseKey}
		i, ok := at[k]
		if !ok {
			at[k] = len(out.users)
			out.add(n.UserID, n.Reason, n.SignalSeq, n.SignalSeq, 1, n.CollapseKey)
			continue
		}
		out.first[i], out.last[i] = min(out.first[i], n.SignalSeq), max(out.last[i], n.SignalSeq)
		out.counts[i]++
	}
	return out
}

// uncoveredTx drops the replayed collapsing notifications of ns that a
// notification of the person with the same key already covers (its
// signals from first to last): those signals were counted, or the
// notification already tells of them.
func (s *Store) uncoveredTx(ctx context.Context, tx *sqlx.Tx, t Tenant, ns []NewNotification) ([]NewNotification, error) {
	var users, seqs []int64
	var keys []string
	for _, n := range ns {
		if n.Replayed && n.CollapseKey != "" {
			users, seqs, keys = append(users, n.UserID), append(seqs, n.SignalSeq), append(keys, n.CollapseKey)
		}
	}
	if len(users) == 0 {
		return ns, nil
	}
	var covered []int
	if err := tx.SelectContext(ctx, &covered, t.SQL(`SELECT c.i FROM unnest($1::bigint[], $2::bigint[], $3::text[]) WITH ORDINALITY AS c(user_id, seq, key, i)
		WHERE EXISTS (SELECT 1 FROM {tenant}.notifications o WHERE o.user_id = c.user_id AND o.collapse_key = c.key
			AND c.seq BETWEEN o.signal_seq AND o.last_seq)`), pq.Array(users), pq.Array(seqs), pq.Array(keys)); err != nil {
		return nil, fmt.Errorf("replayed notifications: %w", err)
	}
	drop := map[int]bool{}
	for _, i := range covered {
		drop[i] = true
	}
	out, i := make([]NewNotification, 0, len(ns)), 0
	for _, n := range ns {
		if n.Replayed && n.CollapseKey != "" {
			i++
			if drop[i] {
				continue
			}
		}
		out = append(out, n)
	}
	return out, nil
}

// emitNotificationsCreated emits notification.created for each person of
// counts (with how many they got), and announces each inbox change, in
// one statement: the rows and NOTIFYs EmitSignal and
// emitNotificationChange make one by one. It returns the people, in
// order.
func (s *Store) emitNotificationsCreated(ctx context.Context, tx *sqlx.Tx, t Tenant, counts map[int64]int) ([]int64, error) {
	if len(counts) == 0 {
		return nil, nil
	}
	people := make([]int64, 0, len(counts))
	for u := range counts {
		people = append(people, u)
	}
	sort.Slice(people, func(i, j int) bool { return people[i] < people[j] })
	added := make([]int64, len(people))
	for i, u := range people {
		added[i] = int64(counts[u])
	}
	var n int
	err := s.getPrepared(ctx, tx, &n, t.SQL(`WITH who AS (
			SELECT u.user_id, u.added, u.i FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS u(user_id, added, i) ORDER BY u.i
		)`+emitCTEs(t, "who", signalExprs{
		Name: "'" + SignalNotificationCreated + "'", Source: "'notifications'", OccurredAt: "now()", Metadata: "'{}'",
		Payload:     `jsonb_build_object('user_id', who.user_id, 'added', who.added)`,
		SubjectType: "'user'", SubjectID: "who.user_id::text",
	})+`, inbox AS (
			SELECT pg_notify($3, $4 || who.user_id::text) FROM who
		)
		SELECT (SELECT count(*) FROM emitted) + (SELECT count(*) FROM inbox)`),
		pq.Array(people), pq.Array(added), ControlChannel, "inbox:"+t.Schema()+":")
	if err != nil {
		return nil, fmt.Errorf("emit notification.created: %w", err)
	}
	return people, nil
}

// emitNotificationChange records that userID's notifications changed.
// The payload holds no text: what changed is read back by its owner.
func (s *Store) emitNotificationChange(ctx context.Context, tx *sqlx.Tx, t Tenant, name string, userID int64, extra map[string]any) error {
	payload := map[string]any{"user_id": userID}
	for k, v := range extra {
		payload[k] = v
	}
	if _, _, err := s.EmitSignal(ctx, tx, t, NewSignal{Name: name, Payload: payload, Source: "notifications",
		Subject: Subject{Type: "user", ID: strconv.FormatInt(userID, 10)}}); err != nil {
		return err
	}
	// Every process's cached count for the person is stale at commit
	// (NOTIFY is sent then, or never).
	if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, ControlChannel, InboxChanged(t, userID)); err != nil {
		return fmt.Errorf("announce inbox change: %w", err)
	}
	return nil
}

// ControlChannel is the NOTIFY channel of messages between processes
// about what their caches hold (the live hub listens on it).
const ControlChannel = "fp_live"

// InboxChanged is the control message "userID's notifications in t
// changed": "inbox:<schema>:<user>".
func InboxChanged(t Tenant, userID int64) string {
	return "inbox:" + t.Schema() + ":" + strconv.FormatInt(userID, 10)
}

// UnreadNotifications is how many notifications userID has not read in
// t, up to UnreadCap. It runs on every page with a header, so it is one
// prepared statement over the partial index of unread rows.
func (s *Store) UnreadNotifications(ctx context.Context, t Tenant, userID int64) (int, error) {
	var n int
	err := s.getPrepared(ctx, nil, &n, t.SQL(`SELECT count(*) FROM (SELECT 1 FROM {tenant}.notifications
		WHERE user_id = $1 AND read_at IS NULL LIMIT `+strconv.Itoa(UnreadCap)+`) u`), userID)
	if err != nil {
		return 0, fmt.Errorf("count unread notifications: %w", err)
	}
	return n, nil
}

// Notifications reads one page of userID's inbox: unread first, then
// newest first, each with its signal. A page past the end is the last.
func (s *Store) Notifications(ctx context.Context, t Tenant, userID int64, page int) ([]Notification, Pager, error) {
	page = normPage(page)
	var total int
	if err := s.DB.GetContext(ctx, &total, t.SQL(`SELECT count(*) FROM {tenant}.notifications WHERE user_id = $1`), userID); err != nil {
		return nil, Pager{}, fmt.Errorf("count notifications: %w", err)
	}
	pages := max((total+NotificationsPerPage-1)/NotificationsPerPage, 1)
	page = min(page, pages)
	var out []Notification
	if err := s.DB.SelectContext(ctx, &out, t.SQL(`SELECT `+notificationColumns+` FROM {tenant}.notifications
		WHERE user_id = $1 ORDER BY read_at IS NULL DESC, created_at DESC, id DESC LIMIT $2 OFFSET $3`),
		userID, NotificationsPerPage, (page-1)*NotificationsPerPage); err != nil {
		return nil, Pager{}, fmt.Errorf("list notifications: %w", err)
	}
	if err := s.attachSignals(ctx, t, out); err != nil {
		return nil, Pager{}, err
	}
	return out, Pager{Page: page, Pages: pages, HasPrev: page > 1, HasNext: page < pages}, nil
}

// attachSignals fills each notification's Signal.
func (s *Store) attachSignals(ctx context.Context, t Tenant, ns []Notification) error {
	if len(ns) == 0 {
		return nil
	}
	seqs := make([]int64, len(ns))
	for i, n := range ns {
		seqs[i] = n.SignalSeq
	}
	sigs, err := s.SignalsBySeqs(ctx, t, seqs)
	if err != nil {
		return err
	}
	bySeq := make(map[int64]Signal, len(sigs))
	for _, sg := range sigs {
		bySeq[sg.Seq] = sg
	}
	for i := range ns {
		ns[i].Signal = bySeq[ns[i].SignalSeq]
	}
	return nil
}

// Notification finds one of userID's notifications, with its signal;
// anybody else's (or a malformed id) is ErrNotFound.
func (s *Store) Notification(ctx context.Context, t Tenant, userID int64, id string) (Notification, error) {
	var n Notification
	if !IsUUID(id) {
		return n, ErrNotFound
	}
	err := s.DB.GetContext(ctx, &n, t.SQL(`SELECT `+notificationColumns+` FROM {tenant}.notifications WHERE id = $1 AND user_id = $2`), id, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return n, ErrNotFound
	} else if err != nil {
		return n, fmt.Errorf("notification %s: %w", id, err)
	}
	ns := []Notification{n}
	err = s.attachSignals(ctx, t, ns)
	return ns[0], err
}

// MarkNotificationRead marks one of userID's notifications read, with
// notification.read when it was unread. Another person's is ErrNotFound.
func (s *Store) MarkNotificationRead(ctx context.Context, t Tenant, userID int64, id string) (Notification, error) {
	var n Notification
	if !IsUUID(id) {
		return n, ErrNotFound
	}
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &n, t.SQL(`UPDATE {tenant}.notifications SET read_at = now()
			WHERE id = $1 AND user_id = $2 AND read_at IS NULL RETURNING `+notificationColumns), id, userID)
		if errors.Is(err, sql.ErrNoRows) {
			// Read already, or not theirs: which one is for the read to say.
			n, err = s.Notification(ctx, t, userID, id)
			return err
		} else if err != nil {
			return fmt.Errorf("mark notification read: %w", err)
		}
		return s.emitNotificationChange(ctx, tx, t, SignalNotificationRead, userID, map[string]any{"read": 1})
	})
	return n, err
}

// MarkAllNotificationsRead marks every unread notification of userID
// read, with one notification.read, and says how many there were.
func (s *Store) MarkAllNotificationsRead(ctx context.Context, t Tenant, userID int64) (int, error) {
	var n int
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, t.SQL(`UPDATE {tenant}.notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL`), userID)
		if err != nil {
			return fmt.Errorf("mark notifications read: %w", err)
		}
		rows, _ := res.RowsAffected()
		if n = int(rows); n == 0 {
			return nil
		}
		return s.emitNotificationChange(ctx, tx, t, SignalNotificationRead, userID, map[string]any{"read": n})
	})
	return n, err
}
