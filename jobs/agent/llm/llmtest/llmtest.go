// Package llmtest is a fake OpenAI-compatible chat-completions server for
// tests and benchmarks: the model provider is the one thing FleetPrompt's
// tests fake. A script decides each answer: text chunks, tool calls,
// usage, an error status, delays, or a stream that hangs until the client
// goes away.
package llmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"fleetprompt/jobs/agent/llm"
)

// Reply is one scripted answer.
type Reply struct {
	// Status, when not 0 or 200, is answered with an OpenAI-style error
	// body carrying ErrorMessage.
	Status       int
	ErrorMessage string
	// Chunks are sent one per SSE event, in order.
	Chunks []string
	// ChunkFunc, when set, makes each chunk's text just before it is
	// written (the benchmark stamps the send time into it).
	ChunkFunc func(i int) string
	// ToolCalls are streamed after the text, split in two deltas each (as
	// real providers do) to exercise reassembly.
	ToolCalls []llm.ToolCall
	Usage     *llm.Usage
	// Delay is waited before each chunk.
	Delay time.Duration
	// HeadersDelay is waited before the response headers.
	HeadersDelay time.Duration
	// Hang keeps the stream open after the chunks, without [DONE], until
	// the client disconnects.
	Hang bool
	// Gate, when set, is waited on before chunk GateAt (the test
	// releases it by closing it).
	Gate   chan struct{}
	GateAt int
}

// Request is what the fake received.
type Request struct {
	Model       string        `json:"model"`
	Messages    []llm.Message `json:"messages"`
	Tools       []wireTool    `json:"tools"`
	MaxTokens   int           `json:"max_tokens"`
	Temperature *float64      `json:"temperature"`
	Stream      bool          `json:"stream"`
	Auth        string        `json:"-"`
}

type wireTool struct {
	Function struct {
		Name string `json:"name"`
	} `json:"function"`
}

// ToolNames lists the tools offered in the request.
func (r Request) ToolNames() []string {
	var out []string
	for _, t := range r.Tools {
		out = append(out, t.Function.Name)
	}
	return out
}

// Server is a running fake provider.
type Server struct {
	*httptest.Server
	// Disconnected receives one value per request whose client went away
	// before the answer ended (a stop, a timeout).
	Disconnected chan struct{}

	mu       sync.Mutex
	script   func(Request) Reply
	requests []Request
}

// New starts a fake provider answering with script. Close it when done.
func New(script func(Request) Reply) *Server {
	s := &Server{script: script, Disconnected: make(chan struct{}, 100)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

func (s *Server) disconnected() {
	select {
	case s.Disconnected <- struct{}{}:
	default:
	}
}

// BaseURL is the API root, for llm.Config.BaseURL.
func (s *Server) BaseURL() string { return s.Server.URL + "/v1" }

// SetScript replaces the script.
func (s *Server) SetScript(script func(Request) Reply) {
	s.mu.Lock()
	s.script = script
	s.mu.Unlock()
}

// Requests returns what was received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	var req Request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
		return
	}
	req.Auth = r.Header.Get("Authorization")
	s.mu.Lock()
	s.requests = append(s.requests, req)
	script := s.script
	s.mu.Unlock()
	rep := script(req)
	ctx := r.Context()
	gone := func() bool {
		select {
		case <-ctx.Done():
			s.disconnected()
			return true
		default:
			return false
		}
	}
	wait := func(d time.Duration) bool {
		if d <= 0 {
			return !gone()
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			s.disconnected()
			return false
		case <-t.C:
			return true
		}
	}
	if !wait(rep.HeadersDelay) {
		return
	}
	if rep.Status != 0 && rep.Status != http.StatusOK {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rep.Status)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": rep.ErrorMessage, "type": "server_error"}})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fl := w.(http.Flusher)
	fl.Flush()
	gate := func(i int) bool {
		if rep.Gate == nil || i != rep.GateAt {
			return true
		}
		select {
		case <-rep.Gate:
			return true
		case <-ctx.Done():
			s.disconnected()
			return false
		}
	}
	model := req.Model
	send := func(v any) bool {
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return false
		}
		fl.Flush()
		return true
	}
	chunk := func(delta map[string]any, finish any) map[string]any {
		return map[string]any{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
	}
	n := len(rep.Chunks)
	for i := 0; i < n; i++ {
		if !gate(i) || !wait(rep.Delay) {
			return
		}
		text := rep.Chunks[i]
		if rep.ChunkFunc != nil {
			text = rep.ChunkFunc(i)
		}
		if !send(chunk(map[string]any{"content": text}, nil)) {
			return
		}
	}
	if !gate(n) {
		return
	}
	for i, tc := range rep.ToolCalls {
		half := len(tc.Function.Arguments) / 2
		if !send(chunk(map[string]any{"tool_calls": []any{map[string]any{"index": i, "id": tc.ID, "type": "function",
			"function": map[string]any{"name": tc.Function.Name, "arguments": tc.Function.Arguments[:half]}}}}, nil)) {
			return
		}
		if !send(chunk(map[string]any{"tool_calls": []any{map[string]any{"index": i,
			"function": map[string]any{"arguments": tc.Function.Arguments[half:]}}}}, nil)) {
			return
		}
	}
	if rep.Hang {
		<-ctx.Done()
		s.disconnected()
		return
	}
	finish := "stop"
	if len(rep.ToolCalls) > 0 {
		finish = "tool_calls"
	}
	send(chunk(map[string]any{}, finish))
	if rep.Usage != nil {
		send(map[string]any{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": model, "choices": []any{}, "usage": rep.Usage})
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	fl.Flush()
}

// Text is a reply streaming words as chunks, with usage.
func Text(chunks ...string) Reply {
	return Reply{Chunks: chunks, Usage: &llm.Usage{PromptTokens: 10, CompletionTokens: len(chunks), TotalTokens: 10 + len(chunks)}}
}

// Call is a reply asking for one tool, with usage.
func Call(id, name, args string) Reply {
	return Reply{ToolCalls: []llm.ToolCall{{ID: id, Type: "function", Function: llm.FunctionCall{Name: name, Arguments: args}}},
		Usage: &llm.Usage{PromptTokens: 12, CompletionTokens: 3, TotalTokens: 15}}
}
