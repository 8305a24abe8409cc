package live

import (
	"errors"
	"regexp"
	"strings"
)

// Topic kinds a page can follow.
const (
	KindTenant        = "tenant"        // every signal of the organization
	KindThread        = "thread"        // one forum thread: its posts, status and audit trail
	KindCategory      = "category"      // one forum category: new threads, status
	KindInstallations = "installations" // package installation progress
	// KindChat is one chat conversation: its messages, streamed answers
	// and proposed actions. Only the conversation's owner may follow it
	// (the /events handler checks; the hub only routes).
	KindChat = "chat"
	// KindExecution is one agent execution: its output as it streams and
	// its outcome. Private (chat) executions are their owner's alone.
	KindExecution = "execution"
	// KindRun is one workflow run: each step's state as it changes.
	KindRun = "run"
	// KindMe is one person's own (their notifications badge): clients
	// say "me", the /events handler makes it "me:<their user id>".
	KindMe = "me"
)

// Topic is what a stream follows inside one tenant. Arg is the thread id,
// the category slug or the conversation id; empty for the other kinds.
type Topic struct {
	Kind string
	Arg  string
}

// String is the topic as clients spell it ("thread:<uuid>").
func (t Topic) String() string {
	if t.Arg == "" {
		return t.Kind
	}
	return t.Kind + ":" + t.Arg
}

// ErrBadTopic is returned for a topic that is not one of the forms above.
var ErrBadTopic = errors.New("live: malformed topic")

var (
	uuidRE         = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	categorySlugRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

// ParseTopic checks the syntax of a client's topic. Whether the thread or
// category exists in the caller's tenant is the caller's check.
func ParseTopic(s string) (Topic, error) {
	kind, arg, _ := strings.Cut(s, ":")
	switch kind {
	case KindTenant, KindInstallations, KindMe:
		if arg == "" && !strings.Contains(s, ":") {
			return Topic{Kind: kind}, nil
		}
	case KindThread, KindChat, KindExecution, KindRun:
		if arg = strings.ToLower(arg); uuidRE.MatchString(arg) {
			return Topic{Kind: kind, Arg: arg}, nil
		}
	case KindCategory:
		if len(arg) <= 64 && categorySlugRE.MatchString(arg) {
			return Topic{Kind: kind, Arg: arg}, nil
		}
	}
	return Topic{}, ErrBadTopic
}

// streamKey names the fan-out set of a topic inside a tenant schema. It is
// built by the server from a checked tenant and a parsed topic, never from
// raw client input.
func streamKey(schema string, t Topic) string { return schema + "/" + t.String() }
