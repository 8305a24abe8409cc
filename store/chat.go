package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
)

// Chat: a member's conversations with one of the organization's agents.
// A conversation belongs to one user in one tenant; every read takes the
// user id, so another member's conversation (and, by the schema, another
// tenant's) is ErrNotFound. Signals about chat carry ids and statuses,
// never message text: the tenant's activity feed and the admin's signal
// browser must not show one member's prompts to another.

// Chat message roles and statuses.
const (
	ChatUser      = "user"
	ChatAssistant = "assistant"
	ChatSystem    = "system"
	ChatTool      = "tool"

	ChatStreaming = "streaming"
	ChatComplete  = "complete"
	ChatFailed    = "failed"
	ChatStopped   = "stopped"
)

// BuiltInAgentID is the agent_id that starts a conversation with the
// built-in assistant (no agent of the organization); BuiltInAssistant is
// its name.
const (
	BuiltInAgentID   = "builtin"
	BuiltInAssistant = "FleetPrompt assistant"
)

// MaxChatMessage is the longest message a user may send, in characters.
const MaxChatMessage = 20000

// Subject types of chat signals.
const (
	SubjectChatConversation = "chat_conversation"
	SubjectChatMessage      = "chat_message"
	SubjectChatAction       = "chat_action"
)

// Conversation is one user's chat with an agent.
type Conversation struct {
	ID        string    `db:"id"`
	UserID    int64     `db:"user_id"`
	AgentID   string    `db:"agent_id"` // "" when the agent was removed
	AgentName string    `db:"agent_name"`
	Title     string    `db:"title"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

// DisplayTitle is the title, or a stand-in before the first message.
func (c Conversation) DisplayTitle() string {
	if c.Title == "" {
		return "New conversation"
	}
	return c.Title
}

// ChatMessage is one message of a conversation.
type ChatMessage struct {
	ID             string          `db:"id"`
	Seq            int64           `db:"seq"`
	ConversationID string          `db:"conversation_id"`
	Role           string          `db:"role"`
	Content        string          `db:"content"`
	Status         string          `db:"status"`
	ToolCalls      json.RawMessage `db:"tool_calls"` // assistant: the tools it asked for, or null
	ToolCallID     string          `db:"tool_call_id"`
	ToolName       string          `db:"tool_name"`
	Error          string          `db:"error"`
	Model          string          `db:"model"`
	PromptTokens   int             `db:"prompt_tokens"`
	OutputTokens   int             `db:"completion_tokens"`
	CreatedAt      time.Time       `db:"created_at"`
	UpdatedAt      time.Time       `db:"updated_at"`
}

// Streaming reports whether the answer is still being written.
func (m ChatMessage) Streaming() bool { return m.Status == ChatStreaming }

// Tokens is the message's total token usage.
func (m ChatMessage) Tokens() int { return m.PromptTokens + m.OutputTokens }

// ChatToolCall is one tool call an assistant message made, as stored.
type ChatToolCall struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// Calls decodes the tool calls.
func (m ChatMessage) Calls() []ChatToolCall {
	var out []ChatToolCall
	if len(m.ToolCalls) > 0 {
		json.Unmarshal(m.ToolCalls, &out) // ours; malformed reads as none
	}
	return out
}

const conversationColumns = `id, user_id, coalesce(agent_id::text, '') AS agent_id, agent_name, title, created_at, updated_at`

const chatMessageColumns = `id, seq, conversation_id, role, content, status, coalesce(tool_calls, '[]') AS tool_calls,
	coalesce(tool_call_id, '') AS tool_call_id, coalesce(tool_name, '') AS tool_name, coalesce(error, '') AS error,
	coalesce(model, '') AS model, prompt_tokens, completion_tokens, created_at, updated_at`

// CreateConversation starts a conversation of userID with one of the
// tenant's agents. An unknown (or foreign) agent is a validation error on
// agent_id, since the user picked it in a form.
func (s *Store) CreateConversation(ctx context.Context, t Tenant, userID int64, agentID string) (Conversation, error) {
	var c Conversation
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		// The built-in assistant needs no agent, so a new organization
		// can chat (and install its first agents) at once.
		a := Agent{Name: BuiltInAssistant}
		if agentID != BuiltInAgentID {
			var err error
			a, err = agentByID(ctx, tx, t, agentID, false)
			if errors.Is(err, ErrNotFound) {
				return Invalid("agent_id", "choose one of the organization's agents")
			} else if err != nil {
				return err
			}
		}
		if err := tx.GetContext(ctx, &c, t.SQL(`INSERT INTO {tenant}.chat_conversations (user_id, agent_id, agent_name)
			VALUES ($1, $2, $3) RETURNING `+conversationColumns), userID, nullIfEmpty(a.ID), a.Name); err != nil {
			return fmt.Errorf("create conversation: %w", err)
		}
		_, _, err := s.EmitSignal(ctx, tx, t, NewSignal{
			Name: "chat.conversation.created", Actor: UserActor(userID), Source: "chat",
			Subject: Subject{Type: SubjectChatConversation, ID: c.ID},
			Payload: map[string]any{"conversation_id": c.ID, "agent_id": c.AgentID},
		})
		return err
	})
	return c, err
}

// Conversations returns the user's conversations, most recently active first.
func (s *Store) Conversations(ctx context.Context, t Tenant, userID int64, limit int) ([]Conversation, error) {
	var out []Conversation
	if err := s.DB.SelectContext(ctx, &out, t.SQL(`SELECT `+conversationColumns+` FROM {tenant}.chat_conversations
		WHERE user_id = $1 ORDER BY updated_at DESC, id LIMIT $2`), userID, clampLimit(limit, 500)); err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	return out, nil
}

// Conversation returns one of the user's conversations. Another user's
// conversation, another tenant's and a malformed id are all ErrNotFound.
func (s *Store) Conversation(ctx context.Context, t Tenant, userID int64, id string) (Conversation, error) {
	return conversationOf(ctx, s.DB, t, userID, id, false)
}

// ConversationByID returns a conversation whoever owns it. It is for
// code that reached the conversation through its own data (the live
// layer rendering a chat signal for the owner's stream), never for an id
// taken from a request: those go through Conversation.
func (s *Store) ConversationByID(ctx context.Context, t Tenant, id string) (Conversation, error) {
	var c Conversation
	if !IsUUID(id) {
		return c, ErrNotFound
	}
	err := s.DB.GetContext(ctx, &c, t.SQL(`SELECT `+conversationColumns+` FROM {tenant}.chat_conversations WHERE id = $1`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	} else if err != nil {
		return c, fmt.Errorf("conversation %s: %w", id, err)
	}
	return c, nil
}

func conversationOf(ctx context.Context, q sqlx.QueryerContext, t Tenant, userID int64, id string, forUpdate bool) (Conversation, error) {
	var c Conversation
	if !IsUUID(id) {
		return c, ErrNotFound
	}
	query := `SELECT ` + conversationColumns + ` FROM {tenant}.chat_conversations WHERE id = $1 AND user_id = $2`
	if forUpdate {
		query += ` FOR UPDATE`
	}
	err := sqlx.GetContext(ctx, q, &c, t.SQL(query), id, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	} else if err != nil {
		return c, fmt.Errorf("conversation %s: %w", id, err)
	}
	return c, nil
}

// ChatMessages returns a conversation's messages, oldest first. The
// caller has checked the conversation is the user's (Conversation).
func (s *Store) ChatMessages(ctx context.Context, t Tenant, conversationID string) ([]ChatMessage, error) {
	var out []ChatMessage
	if err := s.DB.SelectContext(ctx, &out, t.SQL(`SELECT `+chatMessageColumns+` FROM {tenant}.chat_messages
		WHERE conversation_id = $1 ORDER BY seq`), conversationID); err != nil {
		return nil, fmt.Errorf("list chat messages: %w", err)
	}
	return out, nil
}

// ChatMessage returns one message of a conversation.
func (s *Store) ChatMessage(ctx context.Context, t Tenant, conversationID, id string) (ChatMessage, error) {
	var m ChatMessage
	if !IsUUID(id) || !IsUUID(conversationID) {
		return m, ErrNotFound
	}
	err := s.DB.GetContext(ctx, &m, t.SQL(`SELECT `+chatMessageColumns+` FROM {tenant}.chat_messages
		WHERE id = $1 AND conversation_id = $2`), id, conversationID)
	if errors.Is(err, sql.ErrNoRows) {
		return m, ErrNotFound
	} else if err != nil {
		return m, fmt.Errorf("chat message %s: %w", id, err)
	}
	return m, nil
}

// ChatTurn is what sending a message (or retrying) made: the user's
// message (empty on a retry) and the assistant's answer, streaming.
type ChatTurn struct {
	User      ChatMessage
	Assistant ChatMessage
}

var errAnswering = Invalid("body", "The agent is still answering. Wait for it to finish, or stop it, before sending another message.")

// SendChatMessage stores the user's message and the assistant's answer
// placeholder (status streaming) together, with chat.message.created.
// An empty message is a validation error on body; so is a message while
// an answer is still streaming (one answer at a time per conversation).
func (s *Store) SendChatMessage(ctx context.Context, t Tenant, userID int64, conversationID, body string) (ChatTurn, error) {
	var turn ChatTurn
	body = strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	switch {
	case body == "":
		return turn, Invalid("body", "Write a message first.")
	case utf8.RuneCountInString(body) > MaxChatMessage:
		return turn, Invalid("body", fmt.Sprintf("is too long: at most %d characters", MaxChatMessage))
	}
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		c, err := conversationOf(ctx, tx, t, userID, conversationID, true)
		if err != nil {
			return err
		}
		if turn.User, err = insertChatMessage(ctx, tx, t, c.ID, ChatUser, body, ChatComplete); err != nil {
			return err
		}
		if turn.Assistant, err = insertChatMessage(ctx, tx, t, c.ID, ChatAssistant, "", ChatStreaming); err != nil {
			return err
		}
		title := c.Title
		if title == "" {
			title = chatTitle(body)
		}
		if _, err := tx.ExecContext(ctx, t.SQL(`UPDATE {tenant}.chat_conversations SET title = $2, updated_at = now() WHERE id = $1`), c.ID, title); err != nil {
			return fmt.Errorf("touch conversation: %w", err)
		}
		if err := s.emitChatMessage(ctx, tx, t, UserActor(userID), turn.User); err != nil {
			return err
		}
		return s.requestAnswer(ctx, tx, t, c, turn.Assistant, body, turn.User.ID, userID)
	})
	return turn, err
}

// requestAnswer asks the conversation's agent for the answer msg holds:
// an execution of purpose chat, in tx. An agent that does not run (a
// draft, paused, archived) refuses the message, with the reason.
func (s *Store) requestAnswer(ctx context.Context, tx *sqlx.Tx, t Tenant, c Conversation, msg ChatMessage, input, causeID string, userID int64) error {
	_, err := s.RequestExecutionTx(ctx, tx, t, NewExecution{AgentID: c.AgentID, Purpose: PurposeChat, Input: input,
		Cause: Cause{Type: "chat_message", ID: causeID}, UserID: userID,
		Context: ExecutionContext{ConversationID: c.ID, MessageID: msg.ID, UserID: c.UserID}})
	var v *ValidationError
	if errors.As(err, &v) && v.Fields["agent"] != "" {
		return Invalid("", v.Fields["agent"])
	}
	return err
}

// RetryChat starts a new answer after the last one failed or was
// stopped; the failed answer stays in the history. Anything else (the
// last answer complete, or still streaming) is a validation error.
func (s *Store) RetryChat(ctx context.Context, t Tenant, userID int64, conversationID string) (ChatMessage, error) {
	var m ChatMessage
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		c, err := conversationOf(ctx, tx, t, userID, conversationID, true)
		if err != nil {
			return err
		}
		var last ChatMessage
		err = tx.GetContext(ctx, &last, t.SQL(`SELECT `+chatMessageColumns+` FROM {tenant}.chat_messages
			WHERE conversation_id = $1 AND role = 'assistant' ORDER BY seq DESC LIMIT 1`), c.ID)
		if errors.Is(err, sql.ErrNoRows) || err == nil && last.Status != ChatFailed && last.Status != ChatStopped {
			return Invalid("", "There is no failed or stopped answer to retry.")
		} else if err != nil {
			return fmt.Errorf("last answer: %w", err)
		}
		if m, err = insertChatMessage(ctx, tx, t, c.ID, ChatAssistant, "", ChatStreaming); err != nil {
			return err
		}
		var question ChatMessage
		if err := tx.GetContext(ctx, &question, t.SQL(`SELECT `+chatMessageColumns+` FROM {tenant}.chat_messages
			WHERE conversation_id = $1 AND role = 'user' ORDER BY seq DESC LIMIT 1`), c.ID); err != nil {
			return Invalid("", "There is no question to answer again.")
		}
		return s.requestAnswer(ctx, tx, t, c, m, question.Content, question.ID, userID)
	})
	return m, err
}

func insertChatMessage(ctx context.Context, tx *sqlx.Tx, t Tenant, conversationID, role, content, status string) (ChatMessage, error) {
	var m ChatMessage
	err := tx.GetContext(ctx, &m, t.SQL(`INSERT INTO {tenant}.chat_messages (conversation_id, role, content, status)
		VALUES ($1, $2, $3, $4) RETURNING `+chatMessageColumns), conversationID, role, content, status)
	if c, ok := uniqueViolation(err); ok && c == "chat_messages_one_streaming" {
		return m, errAnswering
	} else if err != nil {
		return m, fmt.Errorf("insert %s message: %w", role, err)
	}
	return m, nil
}

func chatTitle(body string) string {
	line, _, _ := strings.Cut(body, "\n")
	line = strings.TrimSpace(line)
	if utf8.RuneCountInString(line) > 60 {
		r := []rune(line)
		line = strings.TrimSpace(string(r[:60])) + "…"
	}
	return line
}

// SaveChatProgress writes the text streamed so far to a streaming
// message, so a reload (or another process) shows it and a crash loses
// little. A message no longer streaming is left alone.
func (s *Store) SaveChatProgress(ctx context.Context, t Tenant, id, content string) error {
	if _, err := s.DB.ExecContext(ctx, t.SQL(`UPDATE {tenant}.chat_messages SET content = $2, updated_at = now()
		WHERE id = $1 AND status = 'streaming'`), id, content); err != nil {
		return fmt.Errorf("save chat progress: %w", err)
	}
	return nil
}

// ChatOutcome is how an answer's execution ended, for its message.
type ChatOutcome struct {
	MessageID string
	Content   string
	Status    string // complete, failed or stopped
	Error     string // what the user is told when it failed
	Model     string
	// Token usage of the run (the agent's counters have it already).
	PromptTokens, OutputTokens int
	// ToolNames are the tools the answer used, by name.
	ToolNames []string
	// Actor is who answered (the agent, or the built-in responder).
	Actor Actor
}

// SettleChatAnswerTx records how an answer's execution ended on its
// message, in the transaction that records the execution (whose counters
// already hold the usage). A message stopped by its owner keeps its
// status and gets the text it had. done is false when the message was
// complete or failed already.
func (s *Store) SettleChatAnswerTx(ctx context.Context, tx *sqlx.Tx, t Tenant, o ChatOutcome) error {
	var calls any
	if len(o.ToolNames) > 0 {
		tc := make([]ChatToolCall, len(o.ToolNames))
		for i, n := range o.ToolNames {
			tc[i] = ChatToolCall{ID: fmt.Sprintf("call_%d", i+1), Name: n}
		}
		b, err := json.Marshal(tc)
		if err != nil {
			return err
		}
		calls = string(b)
	}
	var m ChatMessage
	err := tx.GetContext(ctx, &m, t.SQL(`UPDATE {tenant}.chat_messages SET content = $2,
			status = CASE WHEN status = 'stopped' THEN 'stopped' ELSE $3 END, error = $4,
			tool_calls = $5, model = $6, prompt_tokens = $7, completion_tokens = $8, updated_at = now()
		WHERE id = $1 AND status IN ('streaming', 'stopped') RETURNING `+chatMessageColumns),
		o.MessageID, o.Content, o.Status, nullIfEmpty(o.Error), calls, nullIfEmpty(o.Model), o.PromptTokens, o.OutputTokens)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return fmt.Errorf("settle chat answer: %w", err)
	}
	if _, err := tx.ExecContext(ctx, t.SQL(`UPDATE {tenant}.chat_conversations SET updated_at = now() WHERE id = $1`), m.ConversationID); err != nil {
		return fmt.Errorf("touch conversation: %w", err)
	}
	return s.emitChatCompleted(ctx, tx, t, o.Actor, m)
}

// StopChat settles every streaming answer of the user's conversation as
// stopped, keeping what was streamed. The generation itself is cancelled
// by the caller; this makes the stop stick even when the answer is being
// written by another process, which then finds the message settled.
//
// The answers' executions are canceled with them; their ids are returned
// so the caller can stop a run in its own process at once (others notice
// at their next save).
func (s *Store) StopChat(ctx context.Context, t Tenant, userID int64, conversationID string) ([]ChatMessage, []string, error) {
	var out []ChatMessage
	var runs []string
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		c, err := conversationOf(ctx, tx, t, userID, conversationID, true)
		if err != nil {
			return err
		}
		if err := tx.SelectContext(ctx, &out, t.SQL(`UPDATE {tenant}.chat_messages SET status = 'stopped', updated_at = now()
			WHERE conversation_id = $1 AND status = 'streaming' RETURNING `+chatMessageColumns), c.ID); err != nil {
			return fmt.Errorf("stop chat: %w", err)
		}
		if err := tx.SelectContext(ctx, &runs, t.SQL(`UPDATE {tenant}.agent_executions SET status = 'canceled', finished_at = now(), updated_at = now()
			WHERE purpose = 'chat' AND context->>'conversation_id' = $1 AND status IN ('queued', 'running') RETURNING id::text`), c.ID); err != nil {
			return fmt.Errorf("stop chat runs: %w", err)
		}
		for _, m := range out {
			if err := s.emitChatCompleted(ctx, tx, t, UserActor(userID), m); err != nil {
				return err
			}
		}
		return nil
	})
	return out, runs, err
}

// FailStaleChat settles answers of the conversation that have been
// streaming without progress for longer than idle: the process writing
// them died. They become failed, with a message, so the user can retry.
func (s *Store) FailStaleChat(ctx context.Context, t Tenant, conversationID string, idle time.Duration) error {
	return s.Tx(ctx, func(tx *sqlx.Tx) error {
		var stale []ChatMessage
		if err := tx.SelectContext(ctx, &stale, t.SQL(`UPDATE {tenant}.chat_messages
			SET status = 'failed', error = 'The answer was interrupted (the server stopped while writing it).', updated_at = now()
			WHERE conversation_id = $1 AND status = 'streaming' AND updated_at < now() - $2::interval
			RETURNING `+chatMessageColumns), conversationID, fmt.Sprintf("%d milliseconds", idle.Milliseconds())); err != nil {
			return fmt.Errorf("fail stale answers: %w", err)
		}
		for _, m := range stale {
			if err := s.emitChatCompleted(ctx, tx, t, SystemActor("chat"), m); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) emitChatMessage(ctx context.Context, tx *sqlx.Tx, t Tenant, actor Actor, m ChatMessage) error {
	_, _, err := s.EmitSignal(ctx, tx, t, NewSignal{
		Name: "chat.message.created", Actor: actor, Source: "chat",
		Subject: Subject{Type: SubjectChatMessage, ID: m.ID},
		Payload: map[string]any{"conversation_id": m.ConversationID, "message_id": m.ID, "role": m.Role, "status": m.Status},
	})
	return err
}

func (s *Store) emitChatCompleted(ctx context.Context, tx *sqlx.Tx, t Tenant, actor Actor, m ChatMessage) error {
	_, _, err := s.EmitSignal(ctx, tx, t, NewSignal{
		Name: "chat.message.completed", Actor: actor, Source: "chat",
		Subject: Subject{Type: SubjectChatMessage, ID: m.ID},
		Payload: map[string]any{"conversation_id": m.ConversationID, "message_id": m.ID, "role": m.Role, "status": m.Status,
			"prompt_tokens": m.PromptTokens, "completion_tokens": m.OutputTokens},
	})
	return err
}
