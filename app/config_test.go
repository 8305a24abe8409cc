package app

import (
	"log/slog"
	"testing"
	"time"

	"fleetprompt/store"
)

func TestLoadConfig(t *testing.T) {
	env := map[string]string{"ADDR": "127.0.0.1:9999", "WORKERS": "3", "LOG_LEVEL": "debug", "DATABASE_URL": "postgres://x/y"}
	getenv := func(k string) string { return env[k] }

	cfg, cmd, _, err := LoadConfig(nil, getenv)
	if err != nil || cmd != "serve" {
		t.Fatalf("default command: %q %v", cmd, err)
	}
	if cfg.Addr != "127.0.0.1:9999" || cfg.Workers != 3 || cfg.LogLevel != slog.LevelDebug || cfg.DatabaseURL != "postgres://x/y" || cfg.DataDir != ".fleetprompt" {
		t.Errorf("from env: %+v", cfg)
	}
	cfg, cmd, _, err = LoadConfig([]string{"worker", "-addr", ":1", "-workers", "8"}, getenv)
	if err != nil || cmd != "worker" || cfg.Addr != ":1" || cfg.Workers != 8 {
		t.Errorf("flags must win over env: %q %+v %v", cmd, cfg, err)
	}
	_, cmd, rest, err := LoadConfig([]string{"replay", "-tenant", "demo", "-name", "forum.*"}, getenv)
	if err != nil || cmd != "replay" || len(rest) != 4 {
		t.Errorf("replay's filters must reach replay: %q %v %v", cmd, rest, err)
	}
	if _, _, _, err := LoadConfig([]string{"explode"}, getenv); err == nil {
		t.Error("unknown command accepted")
	}
	env["WORKERS"] = "many"
	if _, _, _, err := LoadConfig(nil, getenv); err == nil {
		t.Error("bad WORKERS accepted")
	}
}

func TestLoadConfigOperations(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	cfg, _, _, err := LoadConfig(nil, getenv)
	if err != nil || cfg.TrustedProxies != nil || cfg.DatabasePooled || cfg.DirectDatabaseURL != "" {
		t.Fatalf("defaults: %+v %v", cfg, err)
	}
	env["DATABASE_URL"] = "postgres://pgbouncer:6432/app"
	env["TRUSTED_PROXIES"] = " 10.0.0.1, 192.168.0.0/16,::1 "
	env["DATABASE_POOLED"] = "true"
	if cfg, _, _, err = LoadConfig(nil, getenv); err != nil {
		t.Fatal(err)
	}
	if got := cfg.TrustedProxies; len(got) != 3 || got[0] != "10.0.0.1" || got[1] != "192.168.0.0/16" || got[2] != "::1" {
		t.Errorf("TRUSTED_PROXIES parsed as %q", got)
	}
	if !cfg.DatabasePooled || cfg.DirectDatabaseURL != env["DATABASE_URL"] {
		t.Errorf("pooled %v, direct URL %q (want DATABASE_URL by default)", cfg.DatabasePooled, cfg.DirectDatabaseURL)
	}
	env["DIRECT_DATABASE_URL"] = "postgres://primary:5432/app"
	if cfg, _, _, _ = LoadConfig(nil, getenv); cfg.DirectDatabaseURL != "postgres://primary:5432/app" {
		t.Errorf("DIRECT_DATABASE_URL %q", cfg.DirectDatabaseURL)
	}
	for k, bad := range map[string]string{"TRUSTED_PROXIES": "10.0.0.1,proxy.example", "DATABASE_POOLED": "sometimes"} {
		old := env[k]
		env[k] = bad
		if _, _, _, err := LoadConfig(nil, getenv); err == nil {
			t.Errorf("%s=%q accepted", k, bad)
		}
		env[k] = old
	}
	delete(env, "DATABASE_URL")
	if _, _, _, err := LoadConfig(nil, getenv); err == nil {
		t.Error("DIRECT_DATABASE_URL / DATABASE_POOLED without DATABASE_URL accepted")
	}
}

func TestLoadConfigWebhookAllowPrivate(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if cfg, _, _, err := LoadConfig(nil, getenv); err != nil || cfg.WebhookAllowPrivate {
		t.Fatalf("webhooks must refuse private addresses by default: %+v %v", cfg.WebhookAllowPrivate, err)
	}
	env["WEBHOOK_ALLOW_PRIVATE"] = "true"
	if cfg, _, _, err := LoadConfig(nil, getenv); err != nil || !cfg.WebhookAllowPrivate {
		t.Errorf("WEBHOOK_ALLOW_PRIVATE=true: %v %v", cfg.WebhookAllowPrivate, err)
	}
	env["WEBHOOK_ALLOW_PRIVATE"] = "maybe"
	if _, _, _, err := LoadConfig(nil, getenv); err == nil {
		t.Error("WEBHOOK_ALLOW_PRIVATE=maybe accepted")
	}
}

func TestLoadConfigForumPostLimit(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	cfg, _, _, err := LoadConfig(nil, getenv)
	if err != nil || cfg.ForumPostLimit != (store.PostLimit{Posts: 10, Per: time.Minute}) {
		t.Errorf("default: %+v %v", cfg.ForumPostLimit, err)
	}
	env["FORUM_POST_LIMIT"] = "3/30s"
	if cfg, _, _, err = LoadConfig(nil, getenv); err != nil || cfg.ForumPostLimit != (store.PostLimit{Posts: 3, Per: 30 * time.Second}) {
		t.Errorf("3/30s: %+v %v", cfg.ForumPostLimit, err)
	}
	if cfg, _, _, err = LoadConfig([]string{"-forum-post-limit", "off"}, getenv); err != nil || !cfg.ForumPostLimit.Off() {
		t.Errorf("off: %+v %v", cfg.ForumPostLimit, err)
	}
	for _, bad := range []string{"ten", "10", "0/1m", "5/1ms", "5/soon"} {
		env["FORUM_POST_LIMIT"] = bad
		if _, _, _, err := LoadConfig(nil, getenv); err == nil {
			t.Errorf("FORUM_POST_LIMIT=%s accepted", bad)
		}
	}
}
