package store

import (
	"fmt"
	"regexp"
	"strings"
)

// Signal name patterns pick signals by name wherever someone subscribes:
// a subscriber in code, a webhook endpoint's events, a replay filter. A
// pattern is an exact name ("package.installation.installed"), a prefix
// ending in ".*" ("forum.*" matches forum.post.created and
// forum.thread.locked, not forums.x), or "*" for every signal.

var signalPattern = regexp.MustCompile(`^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$`)

// ValidSignalPattern reports whether p is a signal name pattern.
func ValidSignalPattern(p string) bool { return len(p) <= 100 && signalPattern.MatchString(p) }

// CheckSignalPatterns refuses an empty list or a malformed pattern, with
// a message for field.
func CheckSignalPatterns(field string, patterns []string) error {
	if len(patterns) == 0 {
		return Invalid(field, "needs at least one signal name or pattern (e.g. forum.*)")
	}
	for _, p := range patterns {
		if !ValidSignalPattern(p) {
			return Invalid(field, fmt.Sprintf("%q is not a signal name or pattern (a name such as forum.post.created, a prefix such as forum.*, or *)", p))
		}
	}
	return nil
}

// SignalPatternMatch reports whether name matches pattern.
func SignalPatternMatch(pattern, name string) bool {
	if pattern == "*" {
		return true
	}
	if prefix, ok := strings.CutSuffix(pattern, ".*"); ok {
		return strings.HasPrefix(name, prefix+".")
	}
	return pattern == name
}

// MatchesAny reports whether name matches one of patterns.
func MatchesAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if SignalPatternMatch(p, name) {
			return true
		}
	}
	return false
}

// signalLikes turns patterns into LIKE patterns for name LIKE ANY(…).
func signalLikes(patterns []string) []string {
	out := make([]string, len(patterns))
	for i, p := range patterns {
		switch prefix, ok := strings.CutSuffix(p, ".*"); {
		case p == "*":
			out[i] = "%"
		case ok:
			out[i] = likeEscape(prefix) + ".%"
		default:
			out[i] = likeEscape(p)
		}
	}
	return out
}
