// Package llmtest is a fake OpenAI-compatible chat-completions server for
// tests and benchmarks: the model provider is the one thing FleetPrompt's
// tests fake. A script decides each answer: text chunks, tool calls,
// usage, an error status, delays, or a stream that hangs until the client
// goes away.
package llmtest

import (
	"context"
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
	st := &stream{s: s, w: w, ctx: r.Context(), rep: script(req), model: req.Model}
	if !st.wait(st.rep.HeadersDelay) {
		return
	}
	if st.rep.Status != 0 && st.rep.Status != http.StatusOK {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(st.rep.Status)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": st.rep.ErrorMessage, "type": "server_error"}})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	st.fl = w.(http.Flusher)
	st.fl.Flush()
	if st.content() && st.toolCalls() {
		st.finish()
	}
}

// stream writes one scripted reply as server-sent chunks, stopping (and
// counting a disconnect) when the client goes away.
type stream struct {
	s     *Server
	w     http.ResponseWriter
	fl    http.Flusher
	ctx   context.Context
	rep   Reply
	model string
}

// wait sleeps d, or reports false if the client left first.
func (st *stream) wait(d time.Duration) bool {
	if d <= 0 {
		select {
		case <-st.ctx.Done():
			st.s.disconnected()
			return false
		default:
			return true
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-st.ctx.Done():
		st.s.disconnected()
		return false
	case <-t.C:
		return true
	}
}

// gate holds chunk i until the script's Gate opens, if it is the gated one.
func (st *stream) gate(i int) bool {
	if st.rep.Gate == nil || i != st.rep.GateAt {
		return true
	}
	select {
	case <-st.rep.Gate:
		return true
	case <-st.ctx.Done():
		st.s.disconnected()
		return false
	}
}

func (st *stream) send(v any) bool {
	b, _ := json.Marshal(v)
	if _, err := fmt.Fprintf(st.w, "data: %s\n\n", b); err != nil {
		return false
	}
	st.fl.Flush()
	return true
}

func (st *stream) chunk(delta map[string]any, finish any) map[string]any {
	return map[string]any{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": st.model,
		"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
}

// content sends the text chunks, each after the script's delay.
func (st *stream) content() bool {
	n := len(st.rep.Chunks)
	for i := 0; i < n; i++ {
		if !st.gate(i) || !st.wait(st.rep.Delay) {
			return false
		}
		text := st.rep.Chunks[i]
		if st.rep.ChunkFunc != nil {
			text = st.rep.ChunkFunc(i)
		}
		if !st.send(st.chunk(map[string]any{"content": text}, nil)) {
			return false
		}
	}
	return st.gate(n)
}

// toolCalls sends each tool call in two fragments, as real providers do.
func (st *stream) toolCalls() bool {
	for i, tc := range st.rep.ToolCalls {
		half := len(tc.Function.Arguments) / 2
		if !st.send(st.chunk(map[string]any{"tool_calls": []any{map[string]any{"index": i, "id": tc.ID, "type": "function",
			"function": map[string]any{"name": tc.Function.Name, "arguments": tc.Function.Arguments[:half]}}}}, nil)) {
			return false
		}
		if !st.send(st.chunk(map[string]any{"tool_calls": []any{map[string]any{"index": i,
			"function": map[string]any{"arguments": tc.Function.Arguments[half:]}}}}, nil)) {
			return false
		}
	}
	return true
}

// finish sends the finish reason, usage and [DONE], or hangs if scripted to.
func (st *stream) finish() {
	if st.rep.Hang {
		<-st.ctx.Done()
		st.s.disconnected()
		return
	}
	finish := "stop"
	if len(st.rep.ToolCalls) > 0 {
		finish = "tool_calls"
	}
	st.send(st.chunk(map[string]any{}, finish))
	if st.rep.Usage != nil {
		st.send(map[string]any{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": st.model, "choices": []any{}, "usage": st.rep.Usage})
	}
	fmt.Fprint(st.w, "data: [DONE]\n\n")
	st.fl.Flush()
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
