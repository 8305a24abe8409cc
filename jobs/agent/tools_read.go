package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"fleetprompt/store"
)

// readTools look things up in the execution's organization.
func readTools(st *store.Store) []Tool {
	return []Tool{
		{Name: "list_agents", Description: "List this organization's AI agents with their state and @handle.", Parameters: noArgs,
			RunFunc: func(ctx context.Context, c Call) (string, error) { return listAgents(ctx, st, c.Tenant) }},
		{Name: "list_packages", Description: "List the marketplace's packages with whether this organization has them installed.",
			Parameters: json.RawMessage(`{"type":"object","properties":{"query":{"type":"string","description":"optional words to match in name or description"}}}`),
			RunFunc:    func(ctx context.Context, c Call) (string, error) { return listPackages(ctx, st, c.Tenant, queryArg(c)) }},
		{Name: "list_forum_categories", Description: "List this organization's forum categories with their ids.", Parameters: noArgs,
			RunFunc: func(ctx context.Context, c Call) (string, error) { return listCategories(ctx, st, c.Tenant) }},
		{Name: "list_threads", Description: "List this organization's latest forum threads with their ids and status.", Parameters: noArgs,
			RunFunc: func(ctx context.Context, c Call) (string, error) { return listThreads(ctx, st, c.Tenant) }},
		{Name: "search_forum", Description: "Search this organization's forum posts; returns the best matches with their thread and a link.",
			Parameters: json.RawMessage(`{"type":"object","properties":{"query":{"type":"string"}},"required":["query"]}`),
			RunFunc:    func(ctx context.Context, c Call) (string, error) { return searchForum(ctx, st, c.Tenant, queryArg(c)) }},
	}
}

// ReadTool runs a read tool by name (chat's typed commands reach the same
// code without a model).
func (tb *Toolbox) ReadTool(ctx context.Context, t store.Tenant, name, query string) (string, error) {
	tool, ok := tb.tools[name]
	if !ok || tool.Action || tool.RunFunc == nil {
		return fmt.Sprintf("error: there is no tool %q", name), nil
	}
	args, _ := json.Marshal(map[string]string{"query": query})
	return tool.RunFunc(ctx, Call{Tenant: t, Args: args})
}

func listAgents(ctx context.Context, st *store.Store, t store.Tenant) (string, error) {
	agents, err := st.ListAgents(ctx, t)
	if err != nil {
		return "", err
	}
	if len(agents) == 0 {
		return "This organization has no agents yet. Installing a package (try `/install starter-agents`) adds some.", nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d agents:\n", len(agents))
	for _, ag := range agents {
		fmt.Fprintf(&b, "- %s (@%s, %s)", ag.Name, ag.Handle, ag.State)
		if ag.Description != "" {
			fmt.Fprintf(&b, ": %s", ag.Description)
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}

func listPackages(ctx context.Context, st *store.Store, t store.Tenant, query string) (string, error) {
	pkgs, err := st.ListPackages(ctx, store.PackageFilter{Q: query})
	if err != nil {
		return "", err
	}
	states, err := st.InstallStates(ctx, t)
	if err != nil {
		return "", err
	}
	if len(pkgs) == 0 {
		return "No package matches.", nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d packages (slug, name, version, minimum tier, status here):\n", len(pkgs))
	for _, p := range pkgs {
		status := "not installed"
		if s, ok := states[p.Slug]; ok && s.Installed() {
			status = "installed"
		} else if ok && s.Pending() {
			status = "in progress"
		}
		fmt.Fprintf(&b, "- `%s` %s %s, %s tier, %s\n", p.Slug, p.Name, p.Version, p.MinTier, status)
	}
	return b.String(), nil
}

func listCategories(ctx context.Context, st *store.Store, t store.Tenant) (string, error) {
	cats, err := st.ForumCategories(ctx, t)
	if err != nil {
		return "", err
	}
	if len(cats) == 0 {
		return "There are no forum categories yet.", nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d categories (id, name, status):\n", len(cats))
	for _, c := range cats {
		fmt.Fprintf(&b, "- `%s` %s (%s, %d threads)\n", c.ID, c.Name, c.Status, c.ThreadCount)
	}
	return b.String(), nil
}

func listThreads(ctx context.Context, st *store.Store, t store.Tenant) (string, error) {
	threads, _, err := st.LatestThreads(ctx, t, 1)
	if err != nil {
		return "", err
	}
	if len(threads) == 0 {
		return "There are no forum threads yet.", nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d latest threads (id, title, category, status):\n", len(threads))
	for _, th := range threads {
		fmt.Fprintf(&b, "- `%s` %q in %s (%s)\n", th.ID, th.Title, th.CategoryName, th.State())
	}
	return b.String(), nil
}

func searchForum(ctx context.Context, st *store.Store, t store.Tenant, query string) (string, error) {
	hits, err := st.SearchForum(ctx, t, store.ForumQuery{Text: query, Any: true, Limit: 5})
	if err != nil {
		return "", err
	}
	if len(hits) == 0 {
		return "No forum post matches.", nil
	}
	var b strings.Builder
	for _, h := range hits {
		fmt.Fprintf(&b, "- In %q (%s), %s wrote: %s [/forums/t/%s#post-%s]\n", h.ThreadTitle, h.Category, h.AuthorName,
			strings.Join(strings.Fields(h.Excerpt), " "), h.ThreadID, h.PostID)
	}
	return b.String(), nil
}
