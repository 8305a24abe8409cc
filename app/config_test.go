package app

import (
	"log/slog"
	"testing"
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
