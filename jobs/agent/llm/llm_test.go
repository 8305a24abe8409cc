package llm_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"fleetprompt/jobs/agent/llm"
	"fleetprompt/jobs/agent/llm/llmtest"
)

func TestStreamTextAndUsage(t *testing.T) {
	t.Parallel()
	fake := llmtest.New(func(llmtest.Request) llmtest.Reply { return llmtest.Text("Hel", "lo", " world") })
	defer fake.Close()
	c := llm.New(llm.Config{BaseURL: fake.BaseURL(), APIKey: "k", Model: "m1"})
	var got []string
	temp := 0.2
	res, err := c.Stream(context.Background(), llm.Request{Messages: []llm.Message{{Role: "user", Content: "hi"}}, MaxTokens: 50, Temperature: &temp},
		func(s string) error { got = append(got, s); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "|") != "Hel|lo| world" || res.Content != "Hello world" {
		t.Fatalf("deltas %q content %q", got, res.Content)
	}
	if res.Usage.PromptTokens != 10 || res.Usage.CompletionTokens != 3 || res.FinishReason != "stop" {
		t.Fatalf("result %+v", res)
	}
	req := fake.Requests()[0]
	if req.Model != "m1" || !req.Stream || req.Auth != "Bearer k" || req.MaxTokens != 50 || req.Temperature == nil || *req.Temperature != 0.2 {
		t.Fatalf("request %+v", req)
	}
}

func TestStreamToolCallsReassembled(t *testing.T) {
	t.Parallel()
	fake := llmtest.New(func(llmtest.Request) llmtest.Reply {
		r := llmtest.Call("call_1", "list_packages", `{"query":"starter"}`)
		r.ToolCalls = append(r.ToolCalls, llm.ToolCall{ID: "call_2", Type: "function", Function: llm.FunctionCall{Name: "list_agents", Arguments: `{}`}})
		return r
	})
	defer fake.Close()
	c := llm.New(llm.Config{BaseURL: fake.BaseURL(), Model: "m"})
	res, err := c.Stream(context.Background(), llm.Request{Tools: []llm.Tool{{Name: "list_packages", Parameters: []byte(`{"type":"object"}`)}}},
		func(string) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(res.ToolCalls) != 2 || res.ToolCalls[0].ID != "call_1" || res.ToolCalls[0].Function.Name != "list_packages" ||
		res.ToolCalls[0].Function.Arguments != `{"query":"starter"}` || res.ToolCalls[1].Function.Name != "list_agents" {
		t.Fatalf("tool calls %+v", res.ToolCalls)
	}
	if res.FinishReason != "tool_calls" {
		t.Fatalf("finish %q", res.FinishReason)
	}
	if names := fake.Requests()[0].ToolNames(); len(names) != 1 || names[0] != "list_packages" {
		t.Fatalf("tools offered %v", names)
	}
}

func TestStreamProviderError(t *testing.T) {
	t.Parallel()
	fake := llmtest.New(func(llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Status: http.StatusInternalServerError, ErrorMessage: "overloaded"}
	})
	defer fake.Close()
	_, err := llm.New(llm.Config{BaseURL: fake.BaseURL()}).Stream(context.Background(), llm.Request{}, func(string) error { return nil })
	var se *llm.StatusError
	if !errors.As(err, &se) || se.Code != 500 || se.Message != "overloaded" {
		t.Fatalf("err %v", err)
	}
}

func TestStreamIdleTimeout(t *testing.T) {
	t.Parallel()
	fake := llmtest.New(func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Chunks: []string{"a"}, Hang: true} })
	defer fake.Close()
	c := llm.New(llm.Config{BaseURL: fake.BaseURL(), IdleTimeout: 150 * time.Millisecond})
	start := time.Now()
	var got string
	_, err := c.Stream(context.Background(), llm.Request{}, func(s string) error { got += s; return nil })
	if !errors.Is(err, llm.ErrIdleTimeout) {
		t.Fatalf("err %v", err)
	}
	if got != "a" || time.Since(start) > 5*time.Second {
		t.Fatalf("got %q after %v", got, time.Since(start))
	}
	select {
	case <-fake.Disconnected:
	case <-time.After(5 * time.Second):
		t.Fatal("the provider request was not closed")
	}
}

func TestStreamSlowHeadersTimeout(t *testing.T) {
	t.Parallel()
	fake := llmtest.New(func(llmtest.Request) llmtest.Reply { return llmtest.Reply{HeadersDelay: 5 * time.Second} })
	defer fake.Close()
	c := llm.New(llm.Config{BaseURL: fake.BaseURL(), ConnectTimeout: 100 * time.Millisecond, IdleTimeout: time.Minute})
	start := time.Now()
	_, err := c.Stream(context.Background(), llm.Request{}, func(string) error { return nil })
	if err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
}

func TestStreamCancelReachesProvider(t *testing.T) {
	t.Parallel()
	fake := llmtest.New(func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Chunks: []string{"a"}, Hang: true} })
	defer fake.Close()
	c := llm.New(llm.Config{BaseURL: fake.BaseURL()})
	ctx, cancel := context.WithCancel(context.Background())
	_, err := c.Stream(ctx, llm.Request{}, func(string) error { cancel(); return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	select {
	case <-fake.Disconnected:
	case <-time.After(5 * time.Second):
		t.Fatal("the provider request was not closed")
	}
}

func TestUnconfigured(t *testing.T) {
	var c *llm.Client
	if c.Configured() || llm.New(llm.Config{}).Configured() {
		t.Fatal("configured without a base URL")
	}
	if _, err := llm.New(llm.Config{}).Stream(context.Background(), llm.Request{}, nil); !errors.Is(err, llm.ErrNotConfigured) {
		t.Fatalf("err %v", err)
	}
}
