package llm

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// accumulator folds a stream's chunks into one Result: the text (each
// piece also handed to onDelta as it comes), the tool calls (their names
// and arguments arrive in fragments keyed by index), usage, model and
// finish reason.
type accumulator struct {
	onDelta func(string) error
	res     Result
	text    strings.Builder
	calls   map[int]*ToolCall
	order   []int // tool call indexes in first-seen order
}

func newAccumulator(onDelta func(string) error) *accumulator {
	return &accumulator{onDelta: onDelta, calls: map[int]*ToolCall{}}
}

// addData decodes one `data:` payload and folds it in.
func (a *accumulator) addData(data []byte) error {
	var ch wireChunk
	if err := json.Unmarshal(data, &ch); err != nil {
		return fmt.Errorf("llm: malformed chunk %.200q: %w", data, err)
	}
	if ch.Error != nil {
		return &StatusError{Code: http.StatusBadGateway, Message: ch.Error.Message}
	}
	if ch.Model != "" {
		a.res.Model = ch.Model
	}
	if ch.Usage != nil {
		a.res.Usage = *ch.Usage
	}
	for _, choice := range ch.Choices {
		if d := choice.Delta.Content; d != "" {
			a.text.WriteString(d)
			if err := a.onDelta(d); err != nil {
				return err
			}
		}
		for _, tc := range choice.Delta.ToolCalls {
			a.addToolCall(tc.Index, tc.ID, tc.Function.Name, tc.Function.Arguments)
		}
		if choice.FinishReason != nil && *choice.FinishReason != "" {
			a.res.FinishReason = *choice.FinishReason
		}
	}
	return nil
}

func (a *accumulator) addToolCall(index int, id, name, args string) {
	call := a.calls[index]
	if call == nil {
		call = &ToolCall{Type: "function"}
		a.calls[index] = call
		a.order = append(a.order, index)
	}
	if id != "" {
		call.ID = id
	}
	call.Function.Name += name
	call.Function.Arguments += args
}

// result is the whole answer; a tool call the provider sent without an
// id gets one, so the follow-up message can refer to it.
func (a *accumulator) result() Result {
	res := a.res
	res.Content = a.text.String()
	for i, idx := range a.order {
		call := *a.calls[idx]
		if call.ID == "" {
			call.ID = fmt.Sprintf("call_%d", i)
		}
		res.ToolCalls = append(res.ToolCalls, call)
	}
	return res
}
