// Package forumagent puts agents in the forums (SPEC §14): an @mention of
// an active agent in a person's post, or a moderator's "ask an agent",
// requests forum.agent.reply, an execution with the thread as context
// whose answer is posted as the agent, in the transaction that records
// the execution. While it runs, the answer streams into every open copy
// of the thread (the execution relay). app/platform.go registers its
// kind, its subscriber and its agent purpose.
package forumagent

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs/agent"
	"fleetprompt/jobs/agent/llm"
	"fleetprompt/jobs/directive"
	"fleetprompt/jobs/signal"
	"fleetprompt/store"
)

// DirectiveReply asks an agent to answer in a thread.
const DirectiveReply = "forum.agent.reply"

// ReplyArgs are forum.agent.reply's payload.
type ReplyArgs struct {
	ThreadID string `json:"thread_id"`
	AgentID  string `json:"agent_id"`
	Question string `json:"question"`
	// PostID is the post that mentioned the agent ("" for "ask an agent").
	PostID string `json:"post_id,omitempty"`
}

// Forum is the forum's agents.
type Forum struct{ st *store.Store }

// New builds it.
func New(st *store.Store) *Forum { return &Forum{st: st} }

// Kinds are its directive kinds.
func (f *Forum) Kinds() []directive.Kind {
	return []directive.Kind{{Name: DirectiveReply, Title: "Ask an agent to answer in a thread", Pending: "Answer requested",
		Role: directive.RoleMember, Run: f.requestReply}}
}

// Subscribers are its signal subscribers: mentions in new posts, looked
// at after a brief batching wait (signal.Prompt): the agent's answer is awaited.
func (f *Forum) Subscribers() []signal.Subscriber {
	return []signal.Subscriber{{Name: "forum.mentions", Signals: []string{"forum.post.created"}, FromLatest: true, Coalesce: signal.Prompt,
		HandleFunc: f.mentioned}}
}

// Purpose is the agent purpose of forum answers.
func (f *Forum) Purpose() agent.Purpose {
	return agent.Purpose{Name: store.PurposeForumReply, PromptFunc: f.prompt, FinishFunc: f.posted}
}

// requestReply is forum.agent.reply: the execution, and
// forum.agent.reply.requested, in the directive's transaction.
func (f *Forum) requestReply(ctx context.Context, tx *sqlx.Tx, t store.Tenant, d store.Directive) (any, error) {
	var a ReplyArgs
	if err := directive.Decode(d, &a); err != nil {
		return nil, err
	}
	th, err := f.st.ForumThread(ctx, t, a.ThreadID)
	if err != nil {
		return nil, gone(err)
	}
	if !th.Open() {
		return nil, store.Invalid("", fmt.Sprintf("The thread is %s: the agent cannot answer in it.", th.State()))
	}
	causeType, causeID := "user", fmt.Sprint(d.RequestedByUserID)
	if a.PostID != "" {
		causeType, causeID = "forum_post", a.PostID
	}
	ex, err := f.st.RequestExecutionTx(ctx, tx, t, store.NewExecution{AgentID: a.AgentID, Purpose: store.PurposeForumReply,
		Input: a.Question, Cause: store.Cause{Type: causeType, ID: causeID}, UserID: d.RequestedByUserID, CausationID: d.ID,
		Context: store.ExecutionContext{ThreadID: th.ID, PostID: a.PostID}})
	if err != nil {
		return nil, err
	}
	_, _, err = f.st.EmitSignal(ctx, tx, t, store.NewSignal{Name: "forum.agent.reply.requested", Actor: actorOf(d),
		Subject: store.Subject{Type: store.SubjectForumThread, ID: th.ID}, Source: "forum", CorrelationID: d.ID, CausationID: d.ID,
		Payload: map[string]any{"thread_id": th.ID, "agent_id": a.AgentID, "agent_name": ex.AgentName, "post_id": a.PostID, "run": ex.ID}})
	return map[string]string{"execution_id": ex.ID}, err
}

func actorOf(d store.Directive) store.Actor {
	if d.RequestedByUserID != 0 {
		return store.UserActor(d.RequestedByUserID)
	}
	return store.SystemActor("forum")
}

func gone(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return store.Invalid("", "The thread no longer exists.")
	}
	return err
}

// mentionRE finds @handles of agents (lowercase words joined by hyphens)
// not inside a word or an e-mail address.
var mentionRE = regexp.MustCompile(`(?:^|[^\w@.])@([a-z0-9]+(?:-[a-z0-9]+)*)\b`)

// Mentions lists the distinct agent handles a text mentions.
func Mentions(text string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range mentionRE.FindAllStringSubmatch(strings.ToLower(text), -1) {
		if h := m[1]; !seen[h] && len(out) < 5 {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

// mentioned asks each active agent a person's new post mentions to
// answer; posts written by agents never trigger mentions (two agents
// mentioning each other would never stop). One request per post and
// agent, however often the signal is delivered.
func (f *Forum) mentioned(ctx context.Context, tx *sqlx.Tx, d signal.Delivery) error {
	var ids []string
	for _, sig := range d.Signals {
		if sig.ActorType == "user" && sig.SubjectType == store.SubjectForumPost {
			ids = append(ids, sig.SubjectID)
		}
	}
	posts, err := f.st.ForumPostsTx(ctx, tx, d.Tenant, ids) // the delivery's posts, in one read
	if err != nil {
		return err
	}
	for _, sig := range d.Signals {
		if sig.ActorType != "user" || sig.SubjectType != store.SubjectForumPost {
			continue
		}
		p, ok := posts[sig.SubjectID]
		if !ok || p.AuthorType != "human" {
			continue
		}
		for _, h := range Mentions(p.Content) {
			ag, err := f.st.AgentByHandle(ctx, tx, d.Tenant, h)
			if errors.Is(err, store.ErrNotFound) || err == nil && !ag.Active() {
				continue
			} else if err != nil {
				return err
			}
			_, _, err = f.st.RequestDirectiveTx(ctx, tx, d.Tenant, store.DirectiveRequest{Kind: DirectiveReply,
				Payload:        ReplyArgs{ThreadID: p.ThreadID, AgentID: ag.ID, Question: p.Content, PostID: p.ID},
				IdempotencyKey: "mention:" + p.ID + ":" + ag.ID, UserID: userOf(sig), CausationID: sig.ID,
				Subject: store.Subject{Type: store.SubjectForumThread, ID: p.ThreadID}})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func userOf(sig store.Signal) int64 {
	var id int64
	fmt.Sscan(sig.ActorID, &id)
	return id
}

// prompt gives the agent the thread so far (its title and latest posts)
// before the question.
func (f *Forum) prompt(ctx context.Context, t store.Tenant, ex store.Execution) ([]llm.Message, error) {
	c := ex.Context()
	th, err := f.st.ForumThread(ctx, t, c.ThreadID)
	if err != nil {
		return nil, err
	}
	posts, _, err := f.st.ThreadPosts(ctx, t, th.ID, false, 1<<20)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "You are answering in the forum thread %q of this organization. Write a helpful reply in Markdown.\n\nThe thread so far:\n", th.Title)
	if len(posts) > 10 {
		posts = posts[len(posts)-10:]
	}
	for _, p := range posts {
		fmt.Fprintf(&b, "\n%s wrote:\n%s\n", p.AuthorName, p.Content)
	}
	return []llm.Message{{Role: "system", Content: b.String()}, {Role: "user", Content: ex.Input}}, nil
}

// posted publishes the answer as the agent's post, in the execution's
// finishing transaction, with forum.agent.reply.posted; a run that failed,
// or a thread locked meanwhile, is forum.agent.reply.failed instead.
func (f *Forum) posted(ctx context.Context, tx *sqlx.Tx, t store.Tenant, ex store.Execution) error {
	c := ex.Context()
	payload := map[string]any{"thread_id": c.ThreadID, "agent_id": ex.AgentID, "agent_name": ex.AgentName, "post_id": c.PostID, "run": ex.ID}
	name, why := "forum.agent.reply.posted", ""
	if ex.Status != store.ExecSucceeded || strings.TrimSpace(ex.Output) == "" {
		name, why = "forum.agent.reply.failed", firstNonEmpty(ex.Error, "the agent gave no answer")
	} else {
		p, err := f.st.CreatePostTx(ctx, tx, t, store.NewPost{ThreadID: c.ThreadID, Body: ex.Output,
			Author: store.Author{Type: "agent", ID: ex.AgentID}, ExecutionID: ex.ID, DirectiveID: ex.DirectiveID})
		var v *store.ValidationError
		switch {
		case errors.As(err, &v):
			name, why = "forum.agent.reply.failed", "the thread was closed before the answer was posted"
		case err != nil:
			return err
		default:
			payload["reply_post_id"] = p.ID
		}
	}
	if why != "" {
		payload["error"] = why
	}
	_, _, err := f.st.EmitSignal(ctx, tx, t, store.NewSignal{Name: name, Actor: store.Actor{Type: "agent", ID: ex.AgentID},
		Subject: store.Subject{Type: store.SubjectForumThread, ID: c.ThreadID}, Source: "forum", Payload: payload,
		CorrelationID: ex.DirectiveID, CausationID: ex.DirectiveID})
	return err
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
