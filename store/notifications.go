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
	// second one with the same key is not made ("post:<id>" for a reply
	// or mention, "reaction:<post>:<user>", "signal:<seq>").
	DedupeKey string
}

// Notification is one row of a person's inbox.
type Notification struct {
	ID        string       `db:"id"`
	UserID    int64        `db:"user_id"`
	Reason    string       `db:"reason"`
	SignalSeq int64        `db:"signal_seq"`
	CreatedAt time.Time    `db:"created_at"`
	ReadAt    sql.NullTime `db:"read_at"`
	// Signal is the fact it is about (filled by Notifications).
	Signal Signal `db:"-"`
}

// Unread reports whether the person has not marked it read.
func (n Notification) Unread() bool { return !n.ReadAt.Valid }

const notificationColumns = `id, user_id, reason, signal_seq, created_at, read_at`

// AddNotificationsTx writes ns in tx. A recipient who is not an active
// member of t's organization (disabled, or of another organization) gets
// nothing, and neither does one who had the same DedupeKey before, so a
// signal delivered again adds nothing. Each person who got something new
// has notification.created emitted for them in tx (one signal per person
// per call). It returns those people.
func (s *Store) AddNotificationsTx(ctx context.Context, tx *sqlx.Tx, t Tenant, ns []NewNotification) ([]int64, error) {
	if len(ns) == 0 {
		return nil, nil
	}
	users, reasons, keys := make([]int64, len(ns)), make([]string, len(ns)), make([]string, len(ns))
	seqs := make([]int64, len(ns))
	for i, n := range ns {
		users[i], reasons[i], seqs[i], keys[i] = n.UserID, n.Reason, n.SignalSeq, n.DedupeKey
	}
	var got []int64
	err := tx.SelectContext(ctx, &got, t.SQL(`INSERT INTO {tenant}.notifications (user_id, reason, signal_seq, dedupe_key)
		SELECT n.user_id, n.reason, n.signal_seq, n.dedupe_key
		FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[]) AS n(user_id, reason, signal_seq, dedupe_key)
		WHERE EXISTS (SELECT 1 FROM public.organization_memberships m
			WHERE m.organization_id = $5 AND m.user_id = n.user_id AND m.status = 'active')
		ON CONFLICT (user_id, dedupe_key) DO NOTHING
		RETURNING user_id`), pq.Array(users), pq.Array(reasons), pq.Array(seqs), pq.Array(keys), t.OrgID)
	if err != nil {
		return nil, fmt.Errorf("add notifications: %w", err)
	}
	counts := map[int64]int{}
	for _, u := range got {
		counts[u]++
	}
	people := make([]int64, 0, len(counts))
	for u := range counts {
		people = append(people, u)
	}
	sort.Slice(people, func(i, j int) bool { return people[i] < people[j] })
	for _, u := range people {
		if err := s.emitNotificationChange(ctx, tx, t, SignalNotificationCreated, u, map[string]any{"added": counts[u]}); err != nil {
			return nil, err
		}
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
