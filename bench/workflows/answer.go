package main

import (
	"strings"
	"time"

	"fleetprompt/jobs/agent/llm/llmtest"
)

// answerText is the fake provider's answer to every question.
const answerText = "Open the back tray, pull the paper out slowly, then switch the printer off and on again."

// answer is the fake provider's script: answerText one word a chunk,
// each after delay (0: as fast as it can).
func answer(delay time.Duration) func(llmtest.Request) llmtest.Reply {
	words := strings.SplitAfter(answerText, " ")
	return func(llmtest.Request) llmtest.Reply {
		r := llmtest.Text(words...)
		r.Delay = delay
		return r
	}
}
