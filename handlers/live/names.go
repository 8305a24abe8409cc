package live

import (
	"strings"

	"fleetprompt/store"
)

// FeedEvents lists the signal names a page following the "tenant" topic
// swaps in (htmx's sse-swap takes names, not patterns), plus live.reload.
// A signal missing here still moves the page's cursor; it just shows up
// on the next load instead of live.
var FeedEvents = []string{
	"forum.category.created", "forum.category.archived", "forum.category.restored",
	"forum.thread.created", "forum.thread.locked", "forum.thread.unlocked",
	"forum.thread.pinned", "forum.thread.unpinned", "forum.thread.solved", "forum.thread.unsolved",
	"forum.post.created", "forum.post.hidden", "forum.post.unhidden", "forum.post.deleted",
	"forum.post.restored", "forum.post.edited",
	"package.install.requested", "package.uninstall.requested",
	"package.installation.started", "package.installation.installing", "package.installation.installed",
	"package.installation.failed", "package.installation.uninstalled",
	"package.installation.enabled", "package.installation.disabled",
	"directive.requested", "directive.started", "directive.succeeded", "directive.failed", "directive.canceled",
	"agent.state.changed",
	"member.added", "member.role_changed", "member.disabled", "member.enabled",
	"live.reload",
}

// Private reports whether a signal belongs to one member alone: chat.*
// (messages, proposed and confirmed actions, conversations), or any
// signal about a chat_* subject (a chat answer's execution signals are
// about its chat message) is a member's private conversation with an
// agent (SPEC §17). They reach only the conversation's and the answer's
// own streams, never the tenant topic or the dashboard's activity feed.
func Private(sig store.Signal) bool {
	return strings.HasPrefix(sig.Name, "chat.") || strings.HasPrefix(sig.SubjectType, "chat_")
}

// FeedSwap is FeedEvents as an sse-swap attribute value.
func FeedSwap() string { return strings.Join(FeedEvents, ",") }
