package handlers

import (
	"context"
	"errors"
	"fmt"
	"html"
	"strings"
	"sync"
	"time"

	"fleetprompt/handlers/live"
	"fleetprompt/jobs/agent/llm"
	"fleetprompt/store"
)

// Answers: a chat answer is written by a goroutine of its own, not by
// the request that asked for it, so a member who leaves the page does
// not lose it. Its text streams to the conversation's live topic as
// ephemeral events; what it finally is (complete, failed, stopped) is a
// database row and a chat.message.completed signal. Only "stop" (or the
// server shutting down) cancels it, and the cancellation reaches the
// provider's HTTP request.

const (
	// chatMaxRounds bounds the model's tool use in one answer.
	chatMaxRounds = 6
	// chatSaveEvery is how often streamed text is written to the row, so
	// a reload (or another server) shows it and a crash loses little.
	chatSaveEvery = 500 * time.Millisecond
	// chatStaleAfter: a streaming answer without progress for this long
	// was left behind by a server that stopped; it is marked failed.
	chatStaleAfter = 3 * time.Minute
	// chatHistory bounds the messages sent to the provider.
	chatHistory = 60
)

var (
	errChatStopped  = errors.New("stopped by the user")
	errChatShutdown = errors.New("the server is shutting down")
)

// chatState is the handlers' registry of answers being written in this
// process, by conversation.
type chatState struct {
	llm *llm.Client

	mu      sync.Mutex
	running map[string]*answer
	closed  bool
	wg      sync.WaitGroup
}

func newChatState(c *llm.Client) *chatState {
	return &chatState{llm: c, running: map[string]*answer{}}
}

// answer is one answer being written.
type answer struct {
	tenant  store.Tenant
	conv    store.Conversation
	userID  int64
	isAdmin bool
	cancel  context.CancelCauseFunc
	done    chan struct{}
	eph     *live.Ephemeral // nil without a live hub

	mu   sync.Mutex // orders text, ephemeral sends and catch-ups
	msg  store.ChatMessage
	text strings.Builder
	// saved is the length of text last written to the row.
	saved int
}

// partial returns the text streamed so far for message id, if this
// process is writing it.
func (cs *chatState) partial(conversationID, messageID string) (string, bool) {
	cs.mu.Lock()
	a := cs.running[conversationID]
	cs.mu.Unlock()
	if a == nil {
		return "", false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.msg.ID != messageID {
		return "", false
	}
	return a.text.String(), true
}

// StopChats cancels every answer being written and waits (until ctx
// ends) for them to be saved as failed, with a Retry button. The app
// calls it at shutdown, after the HTTP server has stopped.
func (h *Handler) StopChats(ctx context.Context) {
	cs := h.chat
	cs.mu.Lock()
	cs.closed = true
	for _, a := range cs.running {
		a.cancel(errChatShutdown)
	}
	cs.mu.Unlock()
	done := make(chan struct{})
	go func() { cs.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// stopAnswer cancels the conversation's answer in this process and
// waits for it to be saved. It reports whether there was one.
func (h *Handler) stopAnswer(ctx context.Context, conversationID string) bool {
	h.chat.mu.Lock()
	a := h.chat.running[conversationID]
	h.chat.mu.Unlock()
	if a == nil {
		return false
	}
	a.cancel(errChatStopped)
	select {
	case <-a.done:
	case <-ctx.Done():
	}
	return true
}

// answerFor starts writing msg (a streaming assistant message) in a
// goroutine of its own. user is the message it answers, nil on a retry.
func (h *Handler) answerFor(t store.Tenant, conv store.Conversation, userID int64, isAdmin bool, msg store.ChatMessage, user *store.ChatMessage) {
	ctx, cancel := context.WithCancelCause(context.Background())
	a := &answer{tenant: t, conv: conv, userID: userID, isAdmin: isAdmin, cancel: cancel, done: make(chan struct{}), msg: msg}
	cs := h.chat
	cs.mu.Lock()
	if cs.closed {
		cs.mu.Unlock()
		cancel(errChatShutdown)
		h.settle(a, store.ChatFailed, "The server is restarting; retry in a moment.", llm.Result{}, 0)
		return
	}
	cs.running[conv.ID] = a
	cs.wg.Add(1)
	cs.mu.Unlock()

	// The bubbles go out before any text, so increments have a target.
	a.mu.Lock()
	a.openFlow(h)
	a.startLocked(h.startedHTML(t, conv, userPrelude(user), a.msg, ""))
	a.mu.Unlock()

	go func() {
		defer func() {
			cs.mu.Lock()
			if cs.running[conv.ID] == a {
				delete(cs.running, conv.ID)
			}
			cs.mu.Unlock()
			close(a.done)
			cs.wg.Done()
		}()
		stopSaving := a.saveLoop(h)
		defer stopSaving()
		h.writeAnswer(ctx, a, user)
	}()
}

// openFlow starts the live flow of the current message (a.mu held): a
// page joining while it runs gets the text so far, then the increments.
func (a *answer) openFlow(h *Handler) {
	if h.live == nil {
		return
	}
	a.eph = h.live.Ephemeral(a.tenant, live.Topic{Kind: live.KindChat, Arg: a.conv.ID}, &a.mu, "chat.message.snapshot", func() []byte {
		return h.startedHTML(a.tenant, a.conv, nil, a.msg, a.text.String())
	})
}

// closeFlow ends it, before the message is settled: the finished
// message reaches pages as a signal, and no late catch-up may show it
// unfinished.
func (a *answer) closeFlow() {
	a.mu.Lock()
	if a.eph != nil {
		a.eph.Close()
	}
	a.mu.Unlock()
}

// sendLocked sends an event to the message's flow (a.mu held).
func (a *answer) sendLocked(name string, data []byte) {
	if a.eph != nil {
		a.eph.Send(name, data)
	}
}

// startLocked sends the flow's first event, which shows the message as it
// is (a.mu held).
func (a *answer) startLocked(data []byte) {
	if a.eph != nil {
		a.eph.SendAll("chat.message.started", data)
	}
}

// delta appends streamed text and pushes it: as an increment to streams
// already following this answer, as the whole answer so far to streams
// that joined meanwhile.
func (a *answer) delta(h *Handler, s string) {
	s = strings.ReplaceAll(s, "\r", "")
	if s == "" {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.text.WriteString(s)
	if a.eph == nil {
		return
	}
	a.eph.Send("chat.message.delta", deltaHTML(a.msg.ID, s))
}

// deltaHTML appends text to a streaming bubble out of band. The text is
// escaped; the bubble shows it with white-space: pre-wrap.
func deltaHTML(messageID, s string) []byte {
	var b strings.Builder
	b.Grow(len(s) + 80)
	b.WriteString(`<span hx-swap-oob="beforeend:#chat-msg-`)
	b.WriteString(messageID)
	b.WriteString(`-text">`)
	// One data line per event: a line break in the text is a character
	// reference (the bubble's pre-wrap shows it).
	b.WriteString(strings.ReplaceAll(html.EscapeString(s), "\n", "&#10;"))
	b.WriteString(`</span>`)
	return []byte(b.String())
}

// saveLoop writes the streamed text to the row now and then, off the
// token path. It returns a function that stops it.
func (a *answer) saveLoop(h *Handler) func() {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(chatSaveEvery)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			a.mu.Lock()
			id, text, dirty := a.msg.ID, a.text.String(), a.text.Len() != a.saved
			a.saved = a.text.Len()
			a.mu.Unlock()
			if !dirty {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := h.store.SaveChatProgress(ctx, a.tenant, id, text); err != nil {
				h.log.Warn("chat: save progress", "err", err)
			}
			cancel()
		}
	}()
	return func() { close(stop); <-done }
}

// writeAnswer produces the answer: the built-in responder for typed
// commands and when no provider is configured, otherwise the model, with
// its tool calls run (read-only ones) or proposed (actions) in between.
func (h *Handler) writeAnswer(ctx context.Context, a *answer, user *store.ChatMessage) {
	last := ""
	if user != nil {
		last = user.Content
	} else if msgs, err := h.store.ChatMessages(ctx, a.tenant, a.conv.ID); err == nil {
		for _, m := range msgs {
			if m.Role == store.ChatUser {
				last = m.Content
			}
		}
	}
	if cmd, ok := parseChatCommand(last); ok || !h.chat.llm.Configured() {
		text, proposal := h.respondBuiltIn(ctx, a, cmd, ok)
		if proposal != nil {
			var v *store.ValidationError
			if _, err := h.propose(ctx, a, *proposal, store.SystemActor("chat")); errors.As(err, &v) {
				text = validationText(v)
			} else if err != nil {
				text = "The proposal could not be recorded; try again in a moment."
			}
		}
		a.delta(h, text)
		h.settle(a, store.ChatComplete, "", llm.Result{}, 0)
		return
	}
	agent, err := h.store.AgentByID(ctx, a.tenant, a.conv.AgentID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		h.settle(a, store.ChatFailed, "Could not read the agent's settings; retry in a moment.", llm.Result{}, 0)
		return
	}
	for round := 0; ; round++ {
		req, err := h.chatRequest(ctx, a, agent)
		if err != nil {
			h.settle(a, store.ChatFailed, "Could not read the conversation; retry in a moment.", llm.Result{}, 0)
			return
		}
		if round >= chatMaxRounds-1 {
			req.Tools = nil // the last round must answer in words
		}
		res, err := h.chat.llm.Stream(ctx, req, func(s string) error { a.delta(h, s); return nil })
		if err != nil {
			status, msg := chatFailure(ctx, err)
			if status == store.ChatFailed {
				h.log.Warn("chat: provider", "tenant", a.tenant.Schema(), "err", err)
			}
			h.settle(a, status, msg, res, 1)
			return
		}
		if len(res.ToolCalls) == 0 {
			h.settle(a, store.ChatComplete, "", res, 1)
			return
		}
		calls := make([]store.ChatToolCall, len(res.ToolCalls))
		for i, c := range res.ToolCalls {
			calls[i] = store.ChatToolCall{ID: c.ID, Name: c.Function.Name, Arguments: c.Function.Arguments}
		}
		if !h.settleWith(a, store.ChatComplete, "", res, 1, calls) {
			return // stopped meanwhile
		}
		actor := agentActor(a.conv)
		var results []store.ChatMessage
		for _, c := range calls {
			result := h.runTool(ctx, a, c, actor)
			m, err := h.store.AddToolMessage(context.WithoutCancel(ctx), a.tenant, a.conv.ID, c, result, actor)
			if err != nil {
				h.log.Error("chat: record tool result", "err", err)
				return
			}
			results = append(results, m)
		}
		if err := context.Cause(ctx); err != nil {
			return // stopped between rounds: nothing is streaming
		}
		next, err := h.store.StartChatRound(context.WithoutCancel(ctx), a.tenant, a.conv.ID)
		if err != nil {
			h.log.Error("chat: next round", "err", err)
			return
		}
		a.mu.Lock()
		a.msg, a.saved = next, 0
		a.text.Reset()
		a.openFlow(h)
		a.startLocked(h.startedHTML(a.tenant, a.conv, results, next, ""))
		a.mu.Unlock()
	}
}

func userPrelude(user *store.ChatMessage) []store.ChatMessage {
	if user == nil {
		return nil
	}
	return []store.ChatMessage{*user}
}

func agentActor(c store.Conversation) store.Actor {
	if c.AgentID != "" {
		return store.Actor{Type: "agent", ID: c.AgentID}
	}
	return store.SystemActor("chat")
}

// chatFailure turns a provider error into the message's status and what
// the user is told.
func chatFailure(ctx context.Context, err error) (status, msg string) {
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errChatStopped):
		return store.ChatStopped, ""
	case errors.Is(cause, errChatShutdown):
		return store.ChatFailed, "The server restarted while answering. Retry to get a full answer."
	}
	var se *llm.StatusError
	switch {
	case errors.Is(err, llm.ErrIdleTimeout):
		return store.ChatFailed, "The model provider stopped answering (timed out). Nothing you wrote was lost; retry in a moment."
	case errors.As(err, &se) && se.Message != "":
		return store.ChatFailed, fmt.Sprintf("The model provider answered with an error (%d: %s). Retry in a moment.", se.Code, se.Message)
	case errors.As(err, &se):
		return store.ChatFailed, fmt.Sprintf("The model provider answered with an error (%d). Retry in a moment.", se.Code)
	}
	return store.ChatFailed, "The model provider could not be reached. Nothing you wrote was lost; retry in a moment."
}

// settle records how the current message ended.
func (h *Handler) settle(a *answer, status, errMsg string, res llm.Result, requests int) {
	h.settleWith(a, status, errMsg, res, requests, nil)
}

func (h *Handler) settleWith(a *answer, status, errMsg string, res llm.Result, requests int, calls []store.ChatToolCall) bool {
	a.closeFlow()
	a.mu.Lock()
	id, text := a.msg.ID, a.text.String()
	a.saved = a.text.Len()
	a.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	actor := store.SystemActor("chat") // the built-in responder
	if requests > 0 {
		actor = agentActor(a.conv)
	}
	_, done, err := h.store.FinishChatMessage(ctx, a.tenant, store.ChatOutcome{
		MessageID: id, Content: text, Status: status, Error: errMsg, ToolCalls: calls,
		Model: res.Model, PromptTokens: res.Usage.PromptTokens, OutputTokens: res.Usage.CompletionTokens,
		Requests: requests, AgentID: a.conv.AgentID, Actor: actor,
	})
	if err != nil {
		h.log.Error("chat: finish message", "tenant", a.tenant.Schema(), "message", id, "err", err)
		return false
	}
	return done
}

// chatRequest builds the provider request: the agent's system prompt and
// settings, then the conversation so far. Failed answers are left out
// (they hold no answer); stopped ones stay, as the user saw them.
func (h *Handler) chatRequest(ctx context.Context, a *answer, agent store.Agent) (llm.Request, error) {
	msgs, err := h.store.ChatMessages(ctx, a.tenant, a.conv.ID)
	if err != nil {
		return llm.Request{}, err
	}
	if len(msgs) > chatHistory {
		msgs = msgs[len(msgs)-chatHistory:]
	}
	system := agent.SystemPrompt
	if strings.TrimSpace(system) == "" {
		system = "You are " + a.conv.AgentName + ", an AI agent of this organization."
	}
	system += "\n\n" + chatToolGuide
	req := llm.Request{Messages: []llm.Message{{Role: "system", Content: system}}, Tools: chatTools}
	cfg := agent.ConfigValues()
	if cfg.MaxTokens > 0 {
		req.MaxTokens = cfg.MaxTokens
	}
	if agent.ID != "" {
		temp := cfg.Temperature
		req.Temperature = &temp
	}
	if h.chat.llm.Model() == "" {
		req.Model = cfg.Model // no LLM_MODEL: the agent's own model name
	}
	answered := map[string]bool{} // tool call ids that have a result
	for _, m := range msgs {
		if m.Role == store.ChatTool {
			answered[m.ToolCallID] = true
		}
	}
	for _, m := range msgs {
		switch {
		case m.ID == a.msg.ID, m.Status == store.ChatStreaming:
			continue
		case m.Role == store.ChatAssistant && m.Status == store.ChatFailed:
			continue
		case m.Role == store.ChatAssistant:
			lm := llm.Message{Role: "assistant", Content: m.Content}
			for _, c := range m.Calls() {
				if answered[c.ID] {
					lm.ToolCalls = append(lm.ToolCalls, llm.ToolCall{ID: c.ID, Type: "function", Function: llm.FunctionCall{Name: c.Name, Arguments: c.Arguments}})
				}
			}
			if lm.Content == "" && len(lm.ToolCalls) == 0 {
				continue
			}
			req.Messages = append(req.Messages, lm)
		case m.Role == store.ChatTool:
			req.Messages = append(req.Messages, llm.Message{Role: "tool", Content: m.Content, ToolCallID: m.ToolCallID})
		case m.Role == store.ChatUser:
			req.Messages = append(req.Messages, llm.Message{Role: "user", Content: m.Content})
		}
	}
	return req, nil
}

// propose records an action proposal and shows it at once. A proposal
// that does not check out is a *ValidationError the caller reports.
func (h *Handler) propose(ctx context.Context, a *answer, n store.NewChatAction, actor store.Actor) (store.ChatAction, error) {
	a.mu.Lock()
	n.MessageID, n.ConversationID = a.msg.ID, a.conv.ID
	a.mu.Unlock()
	n.Actor = actor
	act, err := h.store.ProposeChatAction(context.WithoutCancel(ctx), a.tenant, n)
	var v *store.ValidationError
	if errors.As(err, &v) {
		return act, err // the caller says why
	} else if err != nil {
		h.log.Error("chat: propose action", "err", err)
		return act, err
	}
	// Shown now (before the signal's round trip), in the answer's bubble.
	card := h.actionCardHTML(a.tenant, act, a.isAdmin)
	a.mu.Lock()
	a.sendLocked("chat.action.proposed", oobAppend("#chat-msg-"+act.MessageID+"-actions", card))
	a.mu.Unlock()
	return act, nil
}

// validationText is a refusal in plain words.
func validationText(v *store.ValidationError) string {
	var parts []string
	for _, m := range v.Fields {
		parts = append(parts, m)
	}
	return strings.Join(parts, " ")
}
