package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Chat actions: changes the model (or a typed command) proposes. A
// proposal changes nothing; confirming it requests exactly the directive
// the rest of the app requests for that change (the marketplace's
// install, the moderators' lock), with the same role rule, so the model
// never writes anything itself.

// Chat action kinds.
const (
	ActionInstallPackage   = "install_package"
	ActionUninstallPackage = "uninstall_package"
	ActionCreateThread     = "create_thread"
	ActionLockThread       = "lock_thread"
)

// Chat action statuses.
const (
	ActionProposed  = "proposed"
	ActionConfirmed = "confirmed"
)

// DirectiveThreadCreate creates a forum thread with its first post. The
// forum's own form creates threads directly; chat goes through this
// directive so that every change it causes is one the user confirmed and
// the directives table records.
const DirectiveThreadCreate = "forum.thread.create"

// ChatAction is a proposed (or confirmed) action.
type ChatAction struct {
	ID             string          `db:"id"`
	ConversationID string          `db:"conversation_id"`
	MessageID      string          `db:"message_id"`
	Kind           string          `db:"kind"`
	Payload        json.RawMessage `db:"payload"`
	Summary        string          `db:"summary"`
	Status         string          `db:"status"`
	IdempotencyKey string          `db:"idempotency_key"`
	DirectiveID    string          `db:"directive_id"`
	ConfirmedBy    int64           `db:"confirmed_by_user_id"`
	ConfirmedAt    sql.NullTime    `db:"confirmed_at"`
	CreatedAt      time.Time       `db:"created_at"`
}

// ActionPayload is every kind's payload (the fields a kind uses).
type ActionPayload struct {
	Slug       string `json:"slug,omitempty"`  // install, uninstall
	Purge      bool   `json:"purge,omitempty"` // uninstall
	ThreadID   string `json:"thread_id,omitempty"`
	CategoryID string `json:"category_id,omitempty"` // create_thread
	Title      string `json:"title,omitempty"`
	Body       string `json:"body,omitempty"`
}

// Decoded returns the payload.
func (a ChatAction) Decoded() ActionPayload {
	var p ActionPayload
	json.Unmarshal(a.Payload, &p) // ours
	return p
}

// NeedsAdmin reports whether confirming takes an owner or admin: the same
// rule as the marketplace's install/uninstall and the forum's lock.
func (a ChatAction) NeedsAdmin() bool { return ActionNeedsAdmin(a.Kind) }

// ActionNeedsAdmin is the role rule per kind.
func ActionNeedsAdmin(kind string) bool { return kind != ActionCreateThread }

// Confirmed reports whether the action became a directive.
func (a ChatAction) Confirmed() bool { return a.Status == ActionConfirmed }

const chatActionColumns = `id, conversation_id, coalesce(message_id::text, '') AS message_id, kind, payload, summary, status,
	idempotency_key, coalesce(directive_id::text, '') AS directive_id, coalesce(confirmed_by_user_id, 0) AS confirmed_by_user_id,
	confirmed_at, created_at`

// NewChatAction is a proposal.
type NewChatAction struct {
	ConversationID string
	MessageID      string // the answer that proposed it
	Kind           string
	Payload        ActionPayload
	Actor          Actor // who proposed it: the agent, or the built-in responder
}

// ProposeChatAction checks a proposal against the tenant (the package,
// thread or category must exist here) and records it with
// chat.action.proposed. A proposal that names something missing is a
// *ValidationError whose message the model (or the user) is told.
func (s *Store) ProposeChatAction(ctx context.Context, t Tenant, n NewChatAction) (ChatAction, error) {
	var a ChatAction
	summary, payload, err := s.checkProposal(ctx, t, n.Kind, n.Payload)
	if err != nil {
		return a, err
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return a, err
	}
	err = s.Tx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &a, t.SQL(`INSERT INTO {tenant}.chat_actions (conversation_id, message_id, kind, payload, summary, idempotency_key)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+chatActionColumns),
			n.ConversationID, nullIfEmpty(n.MessageID), n.Kind, b, summary, "chat-action-"+randomKey()); err != nil {
			return fmt.Errorf("insert chat action: %w", err)
		}
		_, _, err := s.EmitSignal(ctx, tx, t, NewSignal{
			Name: "chat.action.proposed", Actor: n.Actor, Source: "chat",
			Subject: Subject{Type: SubjectChatAction, ID: a.ID},
			Payload: map[string]any{"conversation_id": a.ConversationID, "action_id": a.ID, "kind": a.Kind, "message_id": a.MessageID},
		})
		return err
	})
	return a, err
}

func randomKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// checkProposal validates a proposal and describes it for its card.
func (s *Store) checkProposal(ctx context.Context, t Tenant, kind string, p ActionPayload) (string, ActionPayload, error) {
	switch kind {
	case ActionInstallPackage, ActionUninstallPackage:
		p = ActionPayload{Slug: strings.TrimSpace(p.Slug), Purge: p.Purge && kind == ActionUninstallPackage}
		pkg, err := s.PackageBySlug(ctx, p.Slug)
		if errors.Is(err, ErrNotFound) || err == nil && !pkg.IsPublished {
			return "", p, Invalid("slug", fmt.Sprintf("There is no package %q in the marketplace.", p.Slug))
		} else if err != nil {
			return "", p, err
		}
		if kind == ActionInstallPackage {
			return fmt.Sprintf("Install %s %s (%s)", pkg.Name, pkg.Version, pkg.Slug), p, nil
		}
		if _, err := s.InstallationBySlug(ctx, t, p.Slug); errors.Is(err, ErrNotFound) {
			return "", p, Invalid("slug", fmt.Sprintf("%s is not installed.", pkg.Name))
		} else if err != nil {
			return "", p, err
		}
		sum := fmt.Sprintf("Uninstall %s (%s)", pkg.Name, pkg.Slug)
		if p.Purge {
			sum += " and remove its agents"
		}
		return sum, p, nil
	case ActionLockThread:
		p = ActionPayload{ThreadID: strings.ToLower(strings.TrimSpace(p.ThreadID))}
		th, err := s.ForumThread(ctx, t, p.ThreadID)
		if errors.Is(err, ErrNotFound) {
			return "", p, Invalid("thread_id", fmt.Sprintf("There is no thread %q in this organization.", p.ThreadID))
		} else if err != nil {
			return "", p, err
		}
		return fmt.Sprintf("Lock the thread %q", th.Title), p, nil
	case ActionCreateThread:
		p = ActionPayload{CategoryID: strings.ToLower(strings.TrimSpace(p.CategoryID)), Title: strings.TrimSpace(p.Title), Body: p.Body}
		if err := (NewForumThread{CategoryID: p.CategoryID, Title: p.Title, Body: p.Body}).Validate(); err != nil {
			return "", p, err
		}
		cat, err := s.ForumCategoryByID(ctx, t, p.CategoryID)
		if errors.Is(err, ErrNotFound) {
			return "", p, Invalid("category_id", fmt.Sprintf("There is no category %q in this organization.", p.CategoryID))
		} else if err != nil {
			return "", p, err
		}
		if cat.Archived() {
			return "", p, Invalid("category_id", fmt.Sprintf("%s is archived: it takes no new threads.", cat.Name))
		}
		return fmt.Sprintf("Start the thread %q in %s", p.Title, cat.Name), p, nil
	}
	return "", p, Invalid("kind", fmt.Sprintf("%q is not an action chat can propose", kind))
}

// ChatActions returns a conversation's actions, oldest first.
func (s *Store) ChatActions(ctx context.Context, t Tenant, conversationID string) ([]ChatAction, error) {
	var out []ChatAction
	if err := s.DB.SelectContext(ctx, &out, t.SQL(`SELECT `+chatActionColumns+` FROM {tenant}.chat_actions
		WHERE conversation_id = $1 ORDER BY created_at, id`), conversationID); err != nil {
		return nil, fmt.Errorf("list chat actions: %w", err)
	}
	return out, nil
}

// ChatAction returns one action of a conversation; anything else is ErrNotFound.
func (s *Store) ChatAction(ctx context.Context, t Tenant, conversationID, id string) (ChatAction, error) {
	var a ChatAction
	if !IsUUID(id) || !IsUUID(conversationID) {
		return a, ErrNotFound
	}
	err := s.DB.GetContext(ctx, &a, t.SQL(`SELECT `+chatActionColumns+` FROM {tenant}.chat_actions
		WHERE id = $1 AND conversation_id = $2`), id, conversationID)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	} else if err != nil {
		return a, fmt.Errorf("chat action %s: %w", id, err)
	}
	return a, nil
}

// ConfirmChatAction is the user confirming a proposal.
type ConfirmChatAction struct {
	ConversationID string
	ActionID       string
	UserID         int64
	// IsAdmin is the confirming member's role: install, uninstall and
	// lock need an owner or admin (ErrForbidden otherwise).
	IsAdmin bool
	// IdempotencyKey is the card's hidden key; when given it must be the
	// action's own (a card from another action is a conflict).
	IdempotencyKey string
}

// ConfirmChatAction turns a proposal into its directive. The directive's
// idempotency key is the action's own, so confirming twice (a double
// click, two tabs) returns the same directive. A refusal the directive's
// request makes (not installed, tier, agent limit) is returned as its
// *ValidationError and the action stays proposed.
func (s *Store) ConfirmChatAction(ctx context.Context, t Tenant, c ConfirmChatAction) (ChatAction, Directive, error) {
	if _, err := s.Conversation(ctx, t, c.UserID, c.ConversationID); err != nil {
		return ChatAction{}, Directive{}, err
	}
	a, err := s.ChatAction(ctx, t, c.ConversationID, c.ActionID)
	if err != nil {
		return a, Directive{}, err
	}
	if c.IdempotencyKey != "" && c.IdempotencyKey != a.IdempotencyKey {
		return a, Directive{}, fmt.Errorf("the form belongs to another action: %w", ErrConflict)
	}
	if a.NeedsAdmin() && !c.IsAdmin {
		return a, Directive{}, ErrForbidden
	}
	p := a.Decoded()
	var dir Directive
	switch a.Kind {
	case ActionInstallPackage:
		dir, _, err = s.RequestInstall(ctx, t, InstallRequest{Slug: p.Slug, IdempotencyKey: a.IdempotencyKey, UserID: c.UserID})
	case ActionUninstallPackage:
		dir, _, err = s.RequestUninstall(ctx, t, UninstallRequest{Slug: p.Slug, IdempotencyKey: a.IdempotencyKey, UserID: c.UserID, Purge: p.Purge})
	case ActionLockThread:
		dir, _, err = s.RequestForumModeration(ctx, t, c.UserID, DirectiveThreadLock, ForumModeration{ThreadID: p.ThreadID}, a.IdempotencyKey)
	case ActionCreateThread:
		dir, _, err = s.RequestDirective(ctx, t, DirectiveRequest{Kind: DirectiveThreadCreate, IdempotencyKey: a.IdempotencyKey, UserID: c.UserID,
			Payload: p, Subject: Subject{Type: "forum_category", ID: p.CategoryID}})
	default:
		err = fmt.Errorf("chat action kind %q: %w", a.Kind, ErrConflict)
	}
	if errors.Is(err, ErrNotFound) {
		// The package or thread went away since the proposal.
		return a, dir, Invalid("", "What this action was about no longer exists.")
	} else if err != nil {
		return a, dir, err
	}
	// The directive is in (or was already): record the confirmation once.
	err = s.Tx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &a, t.SQL(`UPDATE {tenant}.chat_actions SET status = 'confirmed', directive_id = $2,
				confirmed_by_user_id = $3, confirmed_at = now(), updated_at = now()
			WHERE id = $1 AND status = 'proposed' RETURNING `+chatActionColumns), a.ID, dir.ID, c.UserID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // confirmed already: the same directive
		} else if err != nil {
			return fmt.Errorf("confirm chat action: %w", err)
		}
		_, _, err = s.EmitSignal(ctx, tx, t, NewSignal{
			Name: "chat.action.confirmed", Actor: UserActor(c.UserID), Source: "chat",
			Subject:       Subject{Type: SubjectChatAction, ID: a.ID},
			CorrelationID: dir.ID, CausationID: dir.ID,
			Payload: map[string]any{"conversation_id": a.ConversationID, "action_id": a.ID, "kind": a.Kind, "directive_id": dir.ID},
		})
		return err
	})
	if err != nil {
		return a, dir, err
	}
	a, err = s.ChatAction(ctx, t, c.ConversationID, c.ActionID)
	return a, dir, err
}

// ThreadCreateResult is a forum.thread.create directive's result.
type ThreadCreateResult struct {
	ThreadID string `json:"thread_id"`
	PostID   string `json:"post_id"`
}
