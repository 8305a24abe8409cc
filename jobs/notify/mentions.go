package notify

import (
	"regexp"
	"strings"
)

// mentionCap bounds the people one post can notify by name: a post that
// lists a whole team is not a conversation with each of them.
const mentionCap = 20

var (
	// mentionRE finds an @ and the word after it, not inside a word or an
	// e-mail address. Hyphens are read too, so that an agent's handle
	// (@research-assistant) is seen whole and left to the agents.
	mentionRE = regexp.MustCompile(`(?:^|[^\w@.])@([A-Za-z0-9_][A-Za-z0-9_-]*)`)
	// userHandle is a person's handle (SPEC §16).
	userHandle = regexp.MustCompile(`^[a-z0-9_]{2,30}$`)
	// code spans and fenced blocks quote text: an @ in them mentions nobody.
	fenced = regexp.MustCompile("(?s)```.*?(```|$)")
	inline = regexp.MustCompile("`[^`\n]*`")
)

// Mentions lists the distinct people's handles a post's Markdown
// mentions, lowercase, in order, at most mentionCap.
func Mentions(text string) []string {
	text = inline.ReplaceAllString(fenced.ReplaceAllString(text, " "), " ")
	seen := map[string]bool{}
	var out []string
	for _, m := range mentionRE.FindAllStringSubmatch(text, -1) {
		h := strings.ToLower(m[1])
		if !userHandle.MatchString(h) || seen[h] {
			continue
		}
		seen[h] = true
		if out = append(out, h); len(out) == mentionCap {
			break
		}
	}
	return out
}
