package agent

import (
	"strings"
	"testing"
)

func TestRedactHidesKeysAndTokens(t *testing.T) {
	for _, tc := range []struct{ in, hidden string }{
		{"Incorrect API key provided: sk-live-abcdef123456", "sk-live-abcdef123456"},
		{`{"error":"bad","headers":{"Authorization":"Bearer eyJhbGciOi.xyz"}}`, "eyJhbGciOi.xyz"},
		{"api_key=supersecretvalue&model=x", "supersecretvalue"},
		{"the configured key my-own-key-123 was refused", "my-own-key-123"},
	} {
		got := Redact(tc.in, "my-own-key-123")
		if strings.Contains(got, tc.hidden) || !strings.Contains(got, "[redacted]") {
			t.Errorf("Redact(%q) = %q", tc.in, got)
		}
	}
	if got := Redact("model overloaded, retry later"); got != "model overloaded, retry later" {
		t.Errorf("plain text changed: %q", got)
	}
}

func TestPrices(t *testing.T) {
	p, err := ParsePrices(" gpt-4o-mini=0.15/0.60 , local=0/0")
	if err != nil {
		t.Fatal(err)
	}
	if c := p.Cost("gpt-4o-mini", 1_000_000, 500_000); c < 0.449 || c > 0.451 {
		t.Errorf("cost %v, want 0.45", c)
	}
	if p.Cost("unknown", 1000, 1000) != 0 {
		t.Error("a model without a price must be free")
	}
	for _, bad := range []string{"gpt=1", "=1/2", "gpt=a/b", "gpt=-1/2"} {
		if _, err := ParsePrices(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestPiecesAndExcerpts(t *testing.T) {
	text := strings.Repeat("word ", 50)
	if strings.Join(pieces(text, 48), "") != text {
		t.Error("pieces lose text")
	}
	if got := excerpt("**Hold** the `red` button for five seconds until the light turns green", 30); got != "Hold the red button for five…" {
		t.Errorf("excerpt %q", got)
	}
	if estimate(0) != 1 || estimate(40) != 10 {
		t.Error("estimate is characters / 4, at least one token")
	}
}

func TestChatCommands(t *testing.T) {
	for in, want := range map[string]string{"/help": "help", " /Install starter-agents ": "install", "/search espresso": "search"} {
		if c, ok := parseChatCommand(in); !ok || c.name != want {
			t.Errorf("%q: %+v %v", in, c, ok)
		}
	}
	for _, in := range []string{"/etc/passwd", "help", ""} {
		if _, ok := parseChatCommand(in); ok {
			t.Errorf("%q taken for a command", in)
		}
	}
}

func TestStaticCheck(t *testing.T) {
	got := staticCheck("package x\nimport \"fmt\"\nfunc f() error { var err error; if err != nil {}; return nil }\n")
	if !strings.Contains(got, `import "fmt" is not used`) || !strings.Contains(got, "checked and then ignored") {
		t.Errorf("static check: %s", got)
	}
	if got := astOutline("package x\nfunc (s *S) M() {}\ntype S struct{}\n"); !strings.Contains(got, "func (*S) M") || !strings.Contains(got, "type S") {
		t.Errorf("outline: %s", got)
	}
}
