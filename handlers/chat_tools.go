package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"fleetprompt/jobs/agent/llm"
	"fleetprompt/store"
)

// Tools the model may call, and the typed commands that reach the same
// code without a model. Read-only tools run at once and only read the
// current tenant (and the public catalogue). Action tools only propose:
// the user confirms on a card, and the confirmation requests the
// directive (chat_actions.go).

var chatTools = []llm.Tool{
	{Name: "list_agents", Description: "List this organization's AI agents with their state.", Parameters: json.RawMessage(`{"type":"object","properties":{}}`)},
	{Name: "list_packages", Description: "List the marketplace's packages with whether this organization has them installed.",
		Parameters: json.RawMessage(`{"type":"object","properties":{"query":{"type":"string","description":"optional words to match in name or description"}}}`)},
	{Name: "list_forum_categories", Description: "List this organization's forum categories with their ids.", Parameters: json.RawMessage(`{"type":"object","properties":{}}`)},
	{Name: "list_threads", Description: "List this organization's latest forum threads with their ids and status.", Parameters: json.RawMessage(`{"type":"object","properties":{}}`)},
	{Name: "install_package", Description: "Propose installing a marketplace package. The user must confirm; nothing happens until then.",
		Parameters: json.RawMessage(`{"type":"object","properties":{"slug":{"type":"string"}},"required":["slug"]}`)},
	{Name: "uninstall_package", Description: "Propose uninstalling a package. The user must confirm; nothing happens until then.",
		Parameters: json.RawMessage(`{"type":"object","properties":{"slug":{"type":"string"},"purge":{"type":"boolean","description":"also remove the agents the package created"}},"required":["slug"]}`)},
	{Name: "create_thread", Description: "Propose starting a forum thread. The user must confirm; nothing happens until then.",
		Parameters: json.RawMessage(`{"type":"object","properties":{"category_id":{"type":"string"},"title":{"type":"string"},"body":{"type":"string"}},"required":["category_id","title","body"]}`)},
	{Name: "lock_thread", Description: "Propose locking a forum thread. The user must confirm; nothing happens until then.",
		Parameters: json.RawMessage(`{"type":"object","properties":{"thread_id":{"type":"string"}},"required":["thread_id"]}`)},
}

const chatToolGuide = `You are chatting inside FleetPrompt, the organization's workspace. ` +
	`Use the list_* tools to look things up. Tools that change something (install_package, uninstall_package, create_thread, lock_thread) ` +
	`only propose the change: the user sees a card with a Confirm button. Never say a change is done; say it is proposed and waits for confirmation.`

// chatActionTools maps action tools to action kinds.
var chatActionTools = map[string]string{
	"install_package":   store.ActionInstallPackage,
	"uninstall_package": store.ActionUninstallPackage,
	"create_thread":     store.ActionCreateThread,
	"lock_thread":       store.ActionLockThread,
}

// runTool runs one tool call and returns its result for the model.
func (h *Handler) runTool(ctx context.Context, a *answer, c store.ChatToolCall, actor store.Actor) string {
	if kind, ok := chatActionTools[c.Name]; ok {
		var p store.ActionPayload
		if err := json.Unmarshal([]byte(orEmptyObject(c.Arguments)), &p); err != nil {
			return "error: the arguments are not valid JSON: " + err.Error()
		}
		act, err := h.propose(ctx, a, store.NewChatAction{Kind: kind, Payload: p}, actor)
		var v *store.ValidationError
		if errors.As(err, &v) {
			return "not proposed: " + validationText(v)
		} else if err != nil {
			return "error: the proposal could not be recorded"
		}
		return fmt.Sprintf("proposed (action %s): %q. It waits for the user to press Confirm; it has NOT happened yet.", act.ID, act.Summary)
	}
	var args struct {
		Query string `json:"query"`
	}
	json.Unmarshal([]byte(orEmptyObject(c.Arguments)), &args) // optional
	text, err := h.readTool(ctx, a.tenant, c.Name, args.Query)
	if err != nil {
		h.log.Warn("chat: tool", "tool", c.Name, "err", err)
		return "error: " + c.Name + " failed"
	}
	return text
}

func orEmptyObject(s string) string {
	if strings.TrimSpace(s) == "" {
		return "{}"
	}
	return s
}

// readTool answers a read-only tool (or command) about the tenant.
func (h *Handler) readTool(ctx context.Context, t store.Tenant, name, query string) (string, error) {
	var b strings.Builder
	switch name {
	case "list_agents":
		agents, err := h.store.ListAgents(ctx, t)
		if err != nil {
			return "", err
		}
		if len(agents) == 0 {
			return "This organization has no agents yet. Installing a package (try `/install starter-agents`) adds some.", nil
		}
		fmt.Fprintf(&b, "%d agents:\n", len(agents))
		for _, ag := range agents {
			fmt.Fprintf(&b, "- %s (%s)", ag.Name, ag.State)
			if ag.Description != "" {
				fmt.Fprintf(&b, ": %s", ag.Description)
			}
			b.WriteString("\n")
		}
	case "list_packages":
		pkgs, err := h.store.ListPackages(ctx, store.PackageFilter{Q: query})
		if err != nil {
			return "", err
		}
		states, err := h.store.InstallStates(ctx, t)
		if err != nil {
			return "", err
		}
		if len(pkgs) == 0 {
			return "No package matches.", nil
		}
		fmt.Fprintf(&b, "%d packages (slug, name, version, minimum tier, status here):\n", len(pkgs))
		for _, p := range pkgs {
			status := "not installed"
			if st, ok := states[p.Slug]; ok && st.Installed() {
				status = "installed"
			} else if ok && st.Pending() {
				status = "in progress"
			}
			fmt.Fprintf(&b, "- `%s` %s %s, %s tier, %s\n", p.Slug, p.Name, p.Version, p.MinTier, status)
		}
	case "list_forum_categories":
		cats, err := h.store.ForumCategories(ctx, t)
		if err != nil {
			return "", err
		}
		if len(cats) == 0 {
			return "There are no forum categories yet.", nil
		}
		fmt.Fprintf(&b, "%d categories (id, name, status):\n", len(cats))
		for _, c := range cats {
			fmt.Fprintf(&b, "- `%s` %s (%s, %d threads)\n", c.ID, c.Name, c.Status, c.ThreadCount)
		}
	case "list_threads":
		threads, _, err := h.store.LatestThreads(ctx, t, 1)
		if err != nil {
			return "", err
		}
		if len(threads) == 0 {
			return "There are no forum threads yet.", nil
		}
		fmt.Fprintf(&b, "%d latest threads (id, title, category, status):\n", len(threads))
		for _, th := range threads {
			fmt.Fprintf(&b, "- `%s` %q in %s (%s)\n", th.ID, th.Title, th.CategoryName, th.State())
		}
	default:
		return fmt.Sprintf("error: there is no tool %q", name), nil
	}
	return b.String(), nil
}

// chatCommand is a typed command: "/install starter-agents".
type chatCommand struct {
	Name string
	Arg  string
}

var chatCommands = map[string]string{
	"help": "", "agents": "list_agents", "packages": "list_packages", "threads": "list_threads", "categories": "list_forum_categories",
	"install": "", "uninstall": "", "lock": "",
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
	return chatCommand{Name: name, Arg: strings.TrimSpace(arg)}, true
}

const chatHelp = "I understand these commands:\n\n" +
	"- `/help`: this list\n" +
	"- `/agents`: the organization's agents\n" +
	"- `/packages`: the marketplace, with what is installed here\n" +
	"- `/install <slug>`: propose installing a package (you confirm)\n" +
	"- `/uninstall <slug>`: propose uninstalling a package (you confirm)\n" +
	"- `/categories`: the forum's categories\n" +
	"- `/threads`: the latest forum threads, with their ids\n" +
	"- `/lock <thread id>`: propose locking a thread (you confirm)\n"

// respondBuiltIn is the answer without a model: a typed command, or,
// with no provider configured, a plain statement of that and the help.
func (h *Handler) respondBuiltIn(ctx context.Context, a *answer, cmd chatCommand, isCmd bool) (string, *store.NewChatAction) {
	if !isCmd {
		return "No model provider is configured for this FleetPrompt, so I cannot answer free text. " +
			"An administrator can set LLM_BASE_URL, LLM_API_KEY and LLM_MODEL to connect any OpenAI-compatible provider.\n\n" + chatHelp, nil
	}
	need := func(what string) string { return fmt.Sprintf("Usage: `/%s <%s>`.", cmd.Name, what) }
	switch cmd.Name {
	case "help":
		return chatHelp, nil
	case "install", "uninstall":
		if cmd.Arg == "" {
			return need("package slug") + " `/packages` lists them.", nil
		}
		kind := store.ActionInstallPackage
		if cmd.Name == "uninstall" {
			kind = store.ActionUninstallPackage
		}
		return fmt.Sprintf("Here is the proposal to %s `%s`. Nothing happens until you confirm it.", cmd.Name, cmd.Arg),
			&store.NewChatAction{Kind: kind, Payload: store.ActionPayload{Slug: cmd.Arg}}
	case "lock":
		if cmd.Arg == "" {
			return need("thread id") + " `/threads` lists them.", nil
		}
		return "Here is the proposal to lock that thread. Nothing happens until you confirm it.",
			&store.NewChatAction{Kind: store.ActionLockThread, Payload: store.ActionPayload{ThreadID: cmd.Arg}}
	}
	text, err := h.readTool(ctx, a.tenant, chatCommands[cmd.Name], cmd.Arg)
	if err != nil {
		h.log.Warn("chat: command", "command", cmd.Name, "err", err)
		return "That lookup failed; try again in a moment.", nil
	}
	return text, nil
}
