package agent

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"

	"fleetprompt/jobs/agent/llm"
	"fleetprompt/store"
)

// Provider errors never reach people as the provider wrote them: a
// provider may echo the request, API key included. People get a plain
// message with a reference; the log gets the provider's words with
// anything that looks like a secret replaced, under that reference.

var secretPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?i)bearer\s+[A-Za-z0-9._~+/=-]+`),
	regexp.MustCompile(`\bsk-[A-Za-z0-9_-]{8,}`),
	regexp.MustCompile(`(?i)((?:api[_-]?key|token|secret|password|authorization)["']?\s*[:=]\s*["']?)[^\s"',}]+`),
}

// Redact replaces secrets in s: the given literal ones (the configured
// API key) and anything shaped like a bearer token or key.
func Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	for i, re := range secretPatterns {
		if i == 2 {
			s = re.ReplaceAllString(s, "${1}[redacted]")
			continue
		}
		s = re.ReplaceAllString(s, "[redacted]")
	}
	return s
}

func reference() string {
	b := make([]byte, 4)
	rand.Read(b)
	return "ex-" + hex.EncodeToString(b)
}

// failure fills out with what people are told about a failed run, and
// logs the provider's own words, redacted, under the reference.
func (e *Engine) failure(ex store.Execution, out *store.ExecutionOutcome, cause, err error) {
	switch {
	case errors.Is(cause, errCanceled):
		out.Status = store.ExecCanceled
		out.Logs = append(out.Logs, logLine("info", "canceled while running"))
		return
	case errors.Is(cause, errTimedOut):
		out.Status, out.Error = store.ExecFailed, "The run took longer than the agent's timeout. Try again, or raise the agent's timeout."
		out.Logs = append(out.Logs, logLine("error", "timed out"))
		return
	}
	ref := reference()
	out.Status, out.ErrorRef = store.ExecFailed, ref
	var se *llm.StatusError
	switch {
	case errors.Is(err, llm.ErrIdleTimeout):
		out.Error = "The model provider stopped answering (timed out). Reference " + ref + "."
	case errors.As(err, &se):
		out.Error = "The model provider answered with an error. Reference " + ref + "."
		if se.Code == 429 {
			out.Error = "The model provider is rate-limiting us; try again in a minute. Reference " + ref + "."
		}
	default:
		out.Error = "The model provider could not be reached. Reference " + ref + "."
	}
	out.Logs = append(out.Logs, logLine("error", "provider failed; details in the server log under "+ref))
	e.log.Warn("agent execution failed", "reference", ref, "execution", ex.ID, "agent", ex.AgentName,
		"err", Redact(err.Error(), e.cfg.Secrets...))
}
