package handlers

import "fleetprompt/store"

// figureCard is one of the dashboard's summary cards: a headline total,
// then only the states something is in, in words. A card of zeros said
// nothing a person could act on; an empty card says what to do instead.
type figureCard struct {
	ID, Title string
	Total     int
	// Noun and Nouns name the total's unit (one, many).
	Noun, Nouns string
	Rows        []figureRow
	// Empty is shown when Total is zero.
	Empty          string
	Link, LinkText string
}

// figureRow is one non-zero state of a card; Attention marks a state
// someone should look at (failed, in error).
type figureRow struct {
	Key, Label string
	N          int
	Attention  bool
}

// Unit is the total's noun, singular or plural.
func (c figureCard) Unit() string {
	if c.Total == 1 {
		return c.Noun
	}
	return c.Nouns
}

// stateLabel is what a state is called on the dashboard, and whether it
// needs attention.
type stateLabel struct {
	key, label string
	attention  bool
}

var (
	agentLabels = []stateLabel{{store.AgentActive, "Active", false}, {store.AgentDeploying, "Deploying", false},
		{store.AgentDraft, "Drafts", false}, {store.AgentPaused, "Paused", false}, {store.AgentError, "In error", true}}
	installationLabels = []stateLabel{{store.InstallInstalled, "Installed", false}, {store.InstallRequested, "Waiting to install", false},
		{store.InstallInstalling, "Installing", false}, {store.InstallFailed, "Failed", true}, {store.InstallDisabled, "Disabled", false}}
	directiveLabels = []stateLabel{{store.DirectiveSucceeded, "Done", false}, {store.DirectiveRequested, "Queued", false},
		{store.DirectiveRunning, "Running", false}, {store.DirectiveFailed, "Failed", true}, {store.DirectiveCanceled, "Canceled", false}}
)

// rowsOf is the non-zero states of counts, in labels' order, and their sum.
func rowsOf(counts map[string]int, labels []stateLabel) ([]figureRow, int) {
	var rows []figureRow
	total := 0
	for _, l := range labels {
		if n := counts[l.key]; n > 0 {
			rows = append(rows, figureRow{Key: l.key, Label: l.label, N: n, Attention: l.attention})
			total += n
		}
	}
	return rows, total
}

// Cards is the dashboard's summary, card by card.
func (d dashboardPage) Cards() []figureCard {
	f := d.Figures
	agents, nAgents := rowsOf(f.AgentsByState, agentLabels)
	installs, nInstalls := rowsOf(f.InstallationsByStatus, installationLabels)
	directives, nDirectives := rowsOf(f.DirectivesByStatus, directiveLabels)
	forum, _ := rowsOf(map[string]int{"threads": f.ThreadsWeek, "replies": f.PostsWeek - f.ThreadsWeek},
		[]stateLabel{{"threads", "New threads", false}, {"replies", "Replies", false}})
	return []figureCard{
		{ID: "agents", Title: "Agents", Total: nAgents, Noun: "agent", Nouns: "agents", Rows: agents,
			Empty: "No agents yet: install a package, or create one.", Link: "/agents", LinkText: "All agents"},
		{ID: "installations", Title: "Packages", Total: nInstalls, Noun: "package", Nouns: "packages", Rows: installs,
			Empty: "Nothing installed yet.", Link: "/marketplace", LinkText: "Browse the marketplace"},
		{ID: "forums", Title: "Forums, last 7 days", Total: f.PostsWeek, Noun: "post", Nouns: "posts", Rows: forum,
			Empty: "No posts this week.", Link: "/forums", LinkText: "Open the forums"},
		{ID: "directives", Title: "Commands", Total: nDirectives, Noun: "command", Nouns: "commands", Rows: directives,
			Empty: "No commands yet: installs, posts and agent runs show here.", Link: d.directivesLink(), LinkText: "See them all"},
	}
}

// directivesLink is the directive log for those who may read it.
func (d dashboardPage) directivesLink() string {
	if d.IsAdmin {
		return "/admin/directives"
	}
	return ""
}
