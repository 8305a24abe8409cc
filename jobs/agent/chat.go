package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs/agent/llm"
	"fleetprompt/store"
)

// Chat answers are executions of purpose chat: the conversation so far
// is the prompt, the action tools propose changes (a card the person
// confirms), typed commands (/help, /install …) are answered without a
// model, the text streamed so far is kept on the answer's message, and
// the outcome settles that message in the transaction that records the
// run.

// chatHistory bounds the messages sent to the provider.
const chatHistory = 60

func (e *Engine) chatPurpose() Purpose {
	return Purpose{Name: store.PurposeChat, Actions: true, PromptFunc: e.chatPrompt, AnswerFunc: e.chatCommand,
		ProgressFunc: func(ctx context.Context, t store.Tenant, ex store.Execution, text string) error {
			return e.st.SaveChatProgress(ctx, t, ex.Context().MessageID, text)
		},
		FinishFunc: e.chatFinish}
}

// chatPrompt is the conversation before the answer being written: failed
// answers are left out (they hold no answer), stopped ones stay, as the
// person saw them.
func (e *Engine) chatPrompt(ctx context.Context, t store.Tenant, ex store.Execution) ([]llm.Message, error) {
	c := ex.Context()
	msgs, err := e.st.ChatMessages(ctx, t, c.ConversationID)
	if err != nil {
		return nil, err
	}
	if len(msgs) > chatHistory {
		msgs = msgs[len(msgs)-chatHistory:]
	}
	var out []llm.Message
	for _, m := range msgs {
		switch {
		case m.ID == c.MessageID, m.Status == store.ChatStreaming:
		case m.Role == store.ChatAssistant && m.Status == store.ChatFailed:
		case m.Role == store.ChatAssistant && m.Content != "":
			out = append(out, llm.Message{Role: "assistant", Content: m.Content})
		case m.Role == store.ChatUser:
			out = append(out, llm.Message{Role: "user", Content: m.Content})
		}
	}
	return out, nil
}

// chatFinish settles the answer's message with the run's outcome.
func (e *Engine) chatFinish(ctx context.Context, tx *sqlx.Tx, t store.Tenant, ex store.Execution) error {
	status := map[string]string{store.ExecSucceeded: store.ChatComplete, store.ExecFailed: store.ChatFailed,
		store.ExecCanceled: store.ChatStopped}[ex.Status]
	actor := store.SystemActor("chat")
	if ex.AgentID != "" {
		actor = store.Actor{Type: "agent", ID: ex.AgentID}
	}
	return e.st.SettleChatAnswerTx(ctx, tx, t, store.ChatOutcome{MessageID: ex.Context().MessageID, Content: ex.Output,
		Status: status, Error: ex.Error, Model: ex.Model, PromptTokens: ex.PromptTokens, OutputTokens: ex.CompletionTokens,
		ToolNames: ex.ToolNames(), Actor: actor})
}

// chatActionTools are the tools that only propose (chat's cards).
func chatActionTools() []Tool {
	obj := func(s string) json.RawMessage { return json.RawMessage(s) }
	return []Tool{
		{Name: "install_package", Description: "Propose installing a marketplace package. The user must confirm; nothing happens until then.",
			Parameters: obj(`{"type":"object","properties":{"slug":{"type":"string"}},"required":["slug"]}`)},
		{Name: "uninstall_package", Description: "Propose uninstalling a package. The user must confirm; nothing happens until then.",
			Parameters: obj(`{"type":"object","properties":{"slug":{"type":"string"},"purge":{"type":"boolean","description":"also remove the agents the package created"}},"required":["slug"]}`)},
		{Name: "create_thread", Description: "Propose starting a forum thread. The user must confirm; nothing happens until then.",
			Parameters: obj(`{"type":"object","properties":{"category_id":{"type":"string"},"title":{"type":"string"},"body":{"type":"string"}},"required":["category_id","title","body"]}`)},
		{Name: "lock_thread", Description: "Propose locking a forum thread. The user must confirm; nothing happens until then.",
			Parameters: obj(`{"type":"object","properties":{"thread_id":{"type":"string"}},"required":["thread_id"]}`)},
	}
}

// chatActionKinds maps action tools to chat action kinds.
var chatActionKinds = map[string]string{
	"install_package": store.ActionInstallPackage, "uninstall_package": store.ActionUninstallPackage,
	"create_thread": store.ActionCreateThread, "lock_thread": store.ActionLockThread,
}

// proposeChat records an action tool's proposal as a card on the answer.
func (e *Engine) proposeChat(ctx context.Context, c Call, tool string) (string, error) {
	var p store.ActionPayload
	if err := json.Unmarshal(c.Args, &p); err != nil {
		return "error: the arguments are not valid JSON: " + err.Error(), nil
	}
	act, err := e.propose(ctx, c.Tenant, c.Execution, chatActionKinds[tool], p)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("proposed (action %s): %q. It waits for the user to press Confirm; it has NOT happened yet.", act.ID, act.Summary), nil
}

func (e *Engine) propose(ctx context.Context, t store.Tenant, ex store.Execution, kind string, p store.ActionPayload) (store.ChatAction, error) {
	cx := ex.Context()
	if cx.ConversationID == "" {
		return store.ChatAction{}, store.Invalid("", "only chat answers can propose changes")
	}
	actor := store.SystemActor("chat")
	if ex.AgentID != "" {
		actor = store.Actor{Type: "agent", ID: ex.AgentID}
	}
	return e.st.ProposeChatAction(context.WithoutCancel(ctx), t, store.NewChatAction{ConversationID: cx.ConversationID,
		MessageID: cx.MessageID, Kind: kind, Payload: p, Actor: actor})
}

// chatCommand answers a typed command without a model: "/help",
// "/install starter-agents". ok is false for anything else.
func (e *Engine) chatCommand(ctx context.Context, t store.Tenant, ex store.Execution) (string, bool, error) {
	cmd, ok := parseChatCommand(ex.Input)
	if !ok {
		return "", false, nil
	}
	need := func(what string) string { return fmt.Sprintf("Usage: `/%s <%s>`.", cmd.name, what) }
	proposal := func(kind string, p store.ActionPayload, text string) (string, bool, error) {
		if _, err := e.propose(ctx, t, ex, kind, p); err != nil {
			if msg := refusalText(err); msg != "" && isRefusal(err) {
				return msg, true, nil
			}
			return "", true, err
		}
		return text, true, nil
	}
	switch cmd.name {
	case "help":
		return chatHelp, true, nil
	case "install", "uninstall":
		if cmd.arg == "" {
			return need("package slug") + " `/packages` lists them.", true, nil
		}
		kind := store.ActionInstallPackage
		if cmd.name == "uninstall" {
			kind = store.ActionUninstallPackage
		}
		return proposal(kind, store.ActionPayload{Slug: cmd.arg},
			fmt.Sprintf("Here is the proposal to %s `%s`. Nothing happens until you confirm it.", cmd.name, cmd.arg))
	case "lock":
		if cmd.arg == "" {
			return need("thread id") + " `/threads` lists them.", true, nil
		}
		return proposal(store.ActionLockThread, store.ActionPayload{ThreadID: cmd.arg},
			"Here is the proposal to lock that thread. Nothing happens until you confirm it.")
	}
	text, err := e.tools.ReadTool(ctx, t, chatCommands[cmd.name], cmd.arg)
	return text, true, err
}

type chatCommand struct{ name, arg string }

var chatCommands = map[string]string{
	"help": "", "agents": "list_agents", "packages": "list_packages", "threads": "list_threads", "categories": "list_forum_categories",
	"search": "search_forum", "install": "", "uninstall": "", "lock": "",
}

// parseChatCommand recognises a typed command (a known one only: "/etc"
// is just text).
func parseChatCommand(s string) (chatCommand, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "/") {
		return chatCommand{}, false
	}
	name, arg, _ := strings.Cut(s[1:], " ")
	name = strings.ToLower(name)
	if _, ok := chatCommands[name]; !ok {
		return chatCommand{}, false
	}
	return chatCommand{name: name, arg: strings.TrimSpace(arg)}, true
}

const chatHelp = "Ask me anything about your organization: without a model provider I answer from your forum. I also understand these commands:\n\n" +
	"- `/help`: this list\n" +
	"- `/agents`: the organization's agents\n" +
	"- `/packages`: the marketplace, with what is installed here\n" +
	"- `/install <slug>`: propose installing a package (you confirm)\n" +
	"- `/uninstall <slug>`: propose uninstalling a package (you confirm)\n" +
	"- `/categories`: the forum's categories\n" +
	"- `/threads`: the latest forum threads, with their ids\n" +
	"- `/search <words>`: search the forum\n" +
	"- `/lock <thread id>`: propose locking a thread (you confirm)\n"
