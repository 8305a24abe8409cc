// Package notify is the notifications subscriber (SPEC §16): it reads each
// tenant's forum, directive and workflow signals and notifies the people
// they concern — the thread's starter and earlier posters of a reply, a
// member mentioned by @handle, the author of a post that got a reaction
// or was marked the solution, the moderators of a flag or of a run
// waiting for approval, the person whose request failed.
//
// Like every subscriber, its effects (the notifications and the
// notification.created signals that move the header badges) are written
// through the delivery's transaction, which also moves its cursor: a
// signal notifies once, and a replay of it notifies nobody again (each
// notification has a dedupe key per person). Three rules hold for every
// signal: nobody is told of their own act, nobody outside the
// organization (or disabled in it) is told anything, and nothing of a
// member's private chat reaches anyone.
package notify

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs/signal"
	"fleetprompt/store"
)

// Name is the subscriber's name (its cursors are kept under it).
const Name = "notifications"

// Signals are the signal names that may notify someone.
var Signals = []string{
	"forum.post.created", "forum.post.edited", "forum.post.reacted", "forum.thread.solved",
	"forum.post.flagged", "forum.post.hidden", "forum.post.deleted",
	"directive.failed", "directive.succeeded", "workflow.step.waiting",
}

// Subscriber notifies from each tenant's latest signal on: history made
// before notifications existed tells nobody anything.
func Subscriber(st *store.Store) signal.Subscriber {
	n := &notifier{st: st}
	return signal.Subscriber{Name: Name, Signals: Signals, FromLatest: true, HandleFunc: n.handle}
}

type notifier struct{ st *store.Store }

// handle decides, for each signal of the delivery, who hears of it, and
// writes it all at once. A replay decides the same and adds nothing: the
// dedupe keys are already taken.
func (n *notifier) handle(ctx context.Context, tx *sqlx.Tx, d signal.Delivery) error {
	posts, err := n.audiences(ctx, tx, d)
	if err != nil {
		return err
	}
	var all []store.NewNotification
	for _, sig := range d.Signals {
		if private(sig) {
			continue
		}
		cands, err := n.candidates(ctx, tx, d.Tenant, sig, posts)
		if err != nil {
			return err
		}
		for _, c := range settle(sig, cands) {
			c.Replayed = d.Replay
			all = append(all, c)
		}
	}
	_, err = n.st.AddNotificationsTx(ctx, tx, d.Tenant, all)
	return err
}

// audiences reads who the delivery's new and edited posts concern, all
// at once.
func (n *notifier) audiences(ctx context.Context, tx *sqlx.Tx, d signal.Delivery) (map[string]store.PostAudience, error) {
	var ids []string
	for _, sig := range d.Signals {
		if !private(sig) && (sig.Name == "forum.post.created" || sig.Name == "forum.post.edited") {
			ids = append(ids, postID(sig))
		}
	}
	return n.st.PostAudiencesTx(ctx, tx, d.Tenant, ids)
}

// private: a member's chat is theirs alone; no signal of it notifies
// anyone (SPEC §17).
func private(sig store.Signal) bool {
	return strings.HasPrefix(sig.Name, "chat.") || strings.HasPrefix(sig.SubjectType, "chat_")
}

// candidate is someone a signal may concern, before the rules that hold
// for every signal. A candidate with collapse is folded into the person's
// unread notification of that key (store.NewNotification.CollapseKey).
type candidate struct {
	userID   int64
	reason   string
	key      string
	collapse string
}

// candidates is who sig concerns, by its name; posts are the delivery's
// post audiences.
func (n *notifier) candidates(ctx context.Context, tx *sqlx.Tx, t store.Tenant, sig store.Signal, posts map[string]store.PostAudience) ([]candidate, error) {
	switch sig.Name {
	case "forum.post.created", "forum.post.edited":
		return n.post(ctx, tx, t, sig, posts)
	case "forum.post.reacted", "forum.thread.solved", "forum.post.hidden", "forum.post.deleted":
		return n.author(ctx, tx, t, sig)
	case "forum.post.flagged":
		key := "flag:" + payloadString(sig, "flag_id")
		if key == "flag:" {
			key = signalKey(sig)
		}
		return n.moderators(ctx, tx, t, store.NotifyFlag, key)
	case "workflow.step.waiting":
		return n.moderators(ctx, tx, t, store.NotifyApproval, signalKey(sig))
	case "directive.failed", "directive.succeeded":
		return n.requester(ctx, tx, t, sig)
	}
	return nil, nil
}

// post: the people a published post mentions, and for a reply (not a
// thread's opening post, not an edit) the thread's starter and the people
// who posted in it before, collapsed per thread (one unread notification
// per person and thread, however many replies). A reply that also
// mentions you is one notification, the mention (settle keeps a person's
// first candidate).
func (n *notifier) post(ctx context.Context, tx *sqlx.Tx, t store.Tenant, sig store.Signal, posts map[string]store.PostAudience) ([]candidate, error) {
	a, ok := posts[postID(sig)]
	if !ok || !a.Published {
		return nil, nil // gone, hidden or deleted: members would not see it
	}
	key, handles := "post:"+a.PostID, Mentions(a.Content)
	ids, err := n.st.MembersByHandlesTx(ctx, tx, t, handles)
	if err != nil {
		return nil, err
	}
	var out []candidate
	for _, h := range handles {
		if id, ok := ids[h]; ok {
			out = append(out, candidate{id, store.NotifyMention, key, ""})
		}
	}
	if sig.Name != "forum.post.created" || a.First {
		return out, nil
	}
	thread := "thread:" + a.ThreadID
	out = append(out, candidate{a.StarterID, store.NotifyReply, key, thread})
	for _, id := range a.Earlier {
		out = append(out, candidate{id, store.NotifyReply, key, thread})
	}
	return out, nil
}

// author: the person who wrote the post a reaction, a solution mark or a
// moderation is about. A reaction notifies once per reactor and post
// (taking it back and giving it again is not news).
func (n *notifier) author(ctx context.Context, tx *sqlx.Tx, t store.Tenant, sig store.Signal) ([]candidate, error) {
	a, err := n.st.PostAudienceTx(ctx, tx, t, postID(sig))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	c := candidate{userID: a.AuthorUserID, reason: store.NotifyModeration, key: signalKey(sig)}
	switch sig.Name {
	case "forum.post.reacted":
		c.reason, c.key = store.NotifyReaction, "reaction:"+a.PostID+":"+sig.ActorType+":"+sig.ActorID
	case "forum.thread.solved":
		c.reason, c.key = store.NotifySolution, "solution:"+a.PostID
	}
	if c.reason != store.NotifyModeration && !a.Published {
		return nil, nil
	}
	return []candidate{c}, nil
}

// moderators: every active owner and admin.
func (n *notifier) moderators(ctx context.Context, tx *sqlx.Tx, t store.Tenant, reason, key string) ([]candidate, error) {
	ids, err := n.st.ModeratorsTx(ctx, tx, t)
	if err != nil {
		return nil, err
	}
	out := make([]candidate, len(ids))
	for i, id := range ids {
		out[i] = candidate{userID: id, reason: reason, key: key}
	}
	return out, nil
}

// requester: the person who asked for a directive that failed, or for an
// install or uninstall that finished (SPEC §16: "your install finished").
func (n *notifier) requester(ctx context.Context, tx *sqlx.Tx, t store.Tenant, sig store.Signal) ([]candidate, error) {
	r, err := n.st.DirectiveRequesterTx(ctx, tx, t, payloadString(sig, "directive_id"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if r.UserID == 0 || strings.HasPrefix(r.SubjectType, "chat_") {
		return nil, nil
	}
	reason := store.NotifyRequestFailed
	if sig.Name == "directive.succeeded" {
		if r.Kind != store.DirectivePackageInstall && r.Kind != store.DirectivePackageUninstall {
			return nil, nil // the outcome shows where it was asked for
		}
		reason = store.NotifyRequestDone
	}
	return []candidate{{userID: r.UserID, reason: reason, key: "directive:" + payloadString(sig, "directive_id")}}, nil
}

// settle applies the rules every signal obeys: nobody hears of their own
// act, and a person hears of a signal once (the first candidate's
// reason: a mention before a reply).
func settle(sig store.Signal, cands []candidate) []store.NewNotification {
	var actor int64
	if sig.ActorType == "user" {
		actor, _ = strconv.ParseInt(sig.ActorID, 10, 64)
	}
	seen := map[int64]bool{}
	var out []store.NewNotification
	for _, c := range cands {
		if c.userID <= 0 || c.userID == actor || seen[c.userID] {
			continue
		}
		seen[c.userID] = true
		out = append(out, store.NewNotification{UserID: c.userID, Reason: c.reason, SignalSeq: sig.Seq, DedupeKey: c.key,
			CollapseKey: c.collapse})
	}
	return out
}

// postID is the post a forum signal is about: its payload's post_id, or
// its subject.
func postID(sig store.Signal) string {
	if id := payloadString(sig, "post_id"); id != "" {
		return id
	}
	if sig.SubjectType == store.SubjectForumPost {
		return sig.SubjectID
	}
	return ""
}

func signalKey(sig store.Signal) string { return "signal:" + strconv.FormatInt(sig.Seq, 10) }

// payloadString reads one string field of the signal's payload ("" when
// absent or not a string).
func payloadString(sig store.Signal, field string) string {
	var p map[string]any
	if sig.DecodePayload(&p) != nil {
		return ""
	}
	s, _ := p[field].(string)
	return s
}
