package agent

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"fleetprompt/jobs/agent/llm"
	"fleetprompt/store"
)

// The built-in responder answers without a model provider: it retrieves
// the organization's most relevant forum posts (full-text search, ranked)
// and answers with what they say, quoted briefly, and links to them. It
// never invents anything, so what it says is only as good as the forum;
// when nothing matches it says so and points to where to ask. Usage is an
// estimate, characters / 4, and counts toward the monthly limit like a
// provider's.
type builtin struct {
	e  *Engine
	t  store.Tenant
	ex store.Execution
}

func (b *builtin) Name() string { return "built-in" }

// builtinHits is how many posts an answer quotes at most.
const builtinHits = 3

func (b *builtin) Stream(ctx context.Context, req llm.Request, onDelta func(string) error) (llm.Result, error) {
	question := lastUser(req.Messages)
	text, err := b.answer(ctx, question)
	if err != nil {
		return llm.Result{}, err
	}
	// Sent in pieces, as a provider streams: the page fills in the same
	// way whichever answers.
	for _, piece := range pieces(text, 48) {
		if err := ctx.Err(); err != nil {
			return llm.Result{Content: text}, context.Cause(ctx)
		}
		if err := onDelta(piece); err != nil {
			return llm.Result{}, err
		}
	}
	prompt := 0
	for _, m := range req.Messages {
		prompt += utf8.RuneCountInString(m.Content)
	}
	return llm.Result{Content: text, Model: "builtin", FinishReason: "stop",
		Usage: llm.Usage{PromptTokens: estimate(prompt), CompletionTokens: estimate(utf8.RuneCountInString(text))}}, nil
}

// estimate is characters / 4, at least one token.
func estimate(chars int) int { return max(1, (chars+3)/4) }

func lastUser(msgs []llm.Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			return msgs[i].Content
		}
	}
	return ""
}

// answer writes the reply to question from the forum.
func (b *builtin) answer(ctx context.Context, question string) (string, error) {
	if b.ex.Purpose == store.PurposeTest {
		return fmt.Sprintf("%s is ready. I answer from this organization's forum (no model provider is configured).", b.ex.AgentName), nil
	}
	c := b.ex.Context()
	hits, err := b.e.st.SearchForum(ctx, b.t, store.ForumQuery{Text: question, Any: true, ExcludeThread: c.ThreadID, Limit: builtinHits})
	if err != nil {
		return "", err
	}
	if len(hits) == 0 {
		return "I found nothing in this organization's forum about that yet. " +
			"Try other words, or ask the team in the forums (/forums/new) so the answer is there for the next person.", nil
	}
	var w strings.Builder
	if len(hits) == 1 {
		w.WriteString("Here is what your forum says about that:\n\n")
	} else {
		fmt.Fprintf(&w, "Here is what your forum says about that, from the %d most relevant posts:\n\n", len(hits))
	}
	for _, h := range hits {
		fmt.Fprintf(&w, "- **%s** (%s, %s): “%s” — [read it](/forums/t/%s#post-%s)\n",
			oneLine(h.ThreadTitle), oneLine(h.AuthorName), h.CreatedAt.UTC().Format("2 Jan 2006"), excerpt(h.Excerpt, 280), h.ThreadID, h.PostID)
	}
	w.WriteString("\nI answer from your forum because no model provider is configured; the posts above say more.")
	return w.String(), nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// excerpt shortens text to about n characters at a word boundary.
func excerpt(s string, n int) string {
	s = oneLine(strings.NewReplacer("*", "", "`", "", "#", "", "[", "", "]", "").Replace(s))
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n]
	cut := strings.LastIndex(string(r), " ")
	if cut < n/2 {
		cut = len(string(r))
	}
	return strings.TrimSpace(string(r)[:cut]) + "…"
}

// pieces splits text into chunks of about n bytes at spaces.
func pieces(text string, n int) []string {
	var out []string
	for len(text) > n {
		cut := strings.IndexByte(text[n:], ' ')
		if cut < 0 {
			break
		}
		out = append(out, text[:n+cut+1])
		text = text[n+cut+1:]
	}
	if text != "" {
		out = append(out, text)
	}
	return out
}
