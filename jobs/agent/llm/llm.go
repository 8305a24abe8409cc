// Package llm talks to an OpenAI-compatible chat-completions endpoint
// (OpenAI, Ollama, vLLM, llama.cpp's server, LiteLLM...) with streaming
// answers and tool calls. It knows nothing about FleetPrompt: the chat
// handlers build the messages and run the tools.
package llm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Config says which provider to use. An empty BaseURL means no provider
// is configured (see Client.Configured).
type Config struct {
	// BaseURL is the API root, e.g. https://api.openai.com/v1 or
	// http://localhost:11434/v1; "/chat/completions" is appended.
	BaseURL string
	// APIKey is sent as a bearer token when set.
	APIKey string
	// Model is the model name sent with every request.
	Model string
	// ConnectTimeout bounds dialling and waiting for the response headers
	// (default 10 s).
	ConnectTimeout time.Duration
	// IdleTimeout bounds the silence between two streamed chunks
	// (default 30 s): a provider that stalls mid-answer fails instead of
	// holding the conversation forever.
	IdleTimeout time.Duration
	// HTTPClient replaces the default client (tests, proxies). Its
	// Transport should honour ConnectTimeout itself.
	HTTPClient *http.Client
}

// Client sends chat-completion requests. The zero value and nil are
// unconfigured clients.
type Client struct {
	cfg  Config
	http *http.Client
}

// New builds a client. It never fails: an empty BaseURL gives a client
// whose Configured reports false.
func New(cfg Config) *Client {
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Second
	}
	cfg.BaseURL = strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	hc := cfg.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = (&net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext
		tr.TLSHandshakeTimeout = cfg.ConnectTimeout
		tr.ResponseHeaderTimeout = cfg.ConnectTimeout
		tr.MaxIdleConnsPerHost = 64
		// No overall Timeout: an answer may stream for minutes; the idle
		// timer and the caller's context bound it instead.
		hc = &http.Client{Transport: tr}
	}
	return &Client{cfg: cfg, http: hc}
}

// Configured reports whether a provider is set up.
func (c *Client) Configured() bool { return c != nil && c.cfg.BaseURL != "" }

// Model is the configured model name.
func (c *Client) Model() string {
	if c == nil {
		return ""
	}
	return c.cfg.Model
}

// Message is one chat message in the provider's format.
type Message struct {
	Role       string     `json:"role"` // system, user, assistant, tool
	Content    string     `json:"content"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
	Name       string     `json:"name,omitempty"`
}

// ToolCall is the model asking to run a function.
type ToolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"` // "function"
	Function FunctionCall `json:"function"`
}

// FunctionCall names the function and carries its JSON arguments as text.
type FunctionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// Tool describes a function the model may call.
type Tool struct {
	Name        string
	Description string
	// Parameters is a JSON Schema object.
	Parameters json.RawMessage
}

// Request is one completion request.
type Request struct {
	Model       string // empty: the configured model
	Messages    []Message
	Tools       []Tool
	MaxTokens   int      // 0: the provider's default
	Temperature *float64 // nil: the provider's default
}

// Usage is what the provider counted.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Result is a finished answer.
type Result struct {
	Content      string
	ToolCalls    []ToolCall
	Usage        Usage
	FinishReason string
	Model        string
}

// Errors a caller tells apart (with errors.Is).
var (
	// ErrNotConfigured: no provider is set up.
	ErrNotConfigured = errors.New("llm: no model provider is configured")
	// ErrIdleTimeout: the provider went silent mid-answer.
	ErrIdleTimeout = errors.New("llm: the model provider stopped sending")
)

// StatusError is a non-2xx answer from the provider.
type StatusError struct {
	Code    int
	Message string // the provider's own message, when it sent one
}

func (e *StatusError) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("llm: provider answered %d: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("llm: provider answered %d", e.Code)
}

type wireTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Parameters  json.RawMessage `json:"parameters,omitempty"`
	} `json:"function"`
}

type wireRequest struct {
	Model         string     `json:"model"`
	Messages      []Message  `json:"messages"`
	Tools         []wireTool `json:"tools,omitempty"`
	MaxTokens     int        `json:"max_tokens,omitempty"`
	Temperature   *float64   `json:"temperature,omitempty"`
	Stream        bool       `json:"stream"`
	StreamOptions struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

type wireChunk struct {
	Model   string `json:"model"`
	Choices []struct {
		Delta struct {
			Content   string `json:"content"`
			ToolCalls []struct {
				Index    int    `json:"index"`
				ID       string `json:"id"`
				Type     string `json:"type"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *Usage `json:"usage"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// Stream sends req with stream: true and calls onDelta with each piece of
// answer text as it arrives (in order, from this goroutine). It returns
// the whole answer with its tool calls and usage once the provider sends
// [DONE] or closes the stream. Cancelling ctx aborts the provider request;
// an error from onDelta does too and is returned.
func (c *Client) Stream(ctx context.Context, req Request, onDelta func(text string) error) (Result, error) {
	if !c.Configured() {
		return Result{}, ErrNotConfigured
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	hreq, err := c.newStreamRequest(ctx, req)
	if err != nil {
		return Result{}, err
	}

	// The idle timer covers the wait for the headers too (a custom
	// HTTPClient may lack ResponseHeaderTimeout), then each gap between
	// chunks.
	idle := newIdleTimer(c.cfg.IdleTimeout, func() { cancel(ErrIdleTimeout) })
	defer idle.stop()
	resp, err := c.http.Do(hreq)
	if err != nil {
		return Result{}, streamErr(ctx, fmt.Errorf("llm: request: %w", err))
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return Result{}, statusError(resp)
	}
	idle.reset()

	acc := newAccumulator(onDelta)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		idle.reset()
		data, ok := bytes.CutPrefix(sc.Bytes(), []byte("data:"))
		if !ok {
			continue // comments, event:, id:, blank separators
		}
		data = bytes.TrimSpace(data)
		if string(data) == "[DONE]" {
			break
		}
		if len(data) == 0 {
			continue
		}
		if err := acc.addData(data); err != nil {
			return acc.res, err
		}
	}
	if err := sc.Err(); err != nil {
		return acc.res, streamErr(ctx, fmt.Errorf("llm: read stream: %w", err))
	}
	if err := context.Cause(ctx); err != nil {
		return acc.res, streamErr(ctx, err)
	}
	return acc.result(), nil
}

// newStreamRequest encodes req as a streaming chat completion request.
func (c *Client) newStreamRequest(ctx context.Context, req Request) (*http.Request, error) {
	wr := wireRequest{Model: req.Model, Messages: req.Messages, MaxTokens: req.MaxTokens, Temperature: req.Temperature, Stream: true}
	if wr.Model == "" {
		wr.Model = c.cfg.Model
	}
	wr.StreamOptions.IncludeUsage = true
	for _, t := range req.Tools {
		var w wireTool
		w.Type = "function"
		w.Function.Name, w.Function.Description, w.Function.Parameters = t.Name, t.Description, t.Parameters
		wr.Tools = append(wr.Tools, w)
	}
	body, err := json.Marshal(wr)
	if err != nil {
		return nil, fmt.Errorf("llm: encode request: %w", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "text/event-stream")
	if c.cfg.APIKey != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	return hreq, nil
}

// streamErr reports why the request ended: the idle timeout or the
// caller's cancellation win over the transport's wording of it.
func streamErr(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil {
		if errors.Is(cause, ErrIdleTimeout) {
			return ErrIdleTimeout
		}
		return cause
	}
	return err
}

func statusError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	var body struct {
		Error json.RawMessage `json:"error"`
	}
	msg := ""
	if json.Unmarshal(b, &body) == nil && len(body.Error) > 0 {
		var obj struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(body.Error, &obj) == nil && obj.Message != "" {
			msg = obj.Message
		} else {
			json.Unmarshal(body.Error, &msg)
		}
	}
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return &StatusError{Code: resp.StatusCode, Message: msg}
}

// idleTimer fires fn when reset is not called for d.
type idleTimer struct {
	mu sync.Mutex
	t  *time.Timer
	d  time.Duration
}

func newIdleTimer(d time.Duration, fn func()) *idleTimer {
	return &idleTimer{t: time.AfterFunc(d, fn), d: d}
}

func (i *idleTimer) reset() {
	i.mu.Lock()
	i.t.Reset(i.d)
	i.mu.Unlock()
}

func (i *idleTimer) stop() {
	i.mu.Lock()
	i.t.Stop()
	i.mu.Unlock()
}
