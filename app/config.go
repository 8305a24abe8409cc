package app

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strconv"
	"strings"

	"fleetprompt/handlers/llm"
)

// Config is read once at start-up from the environment, with flags that
// mirror it (a flag wins over the variable).
type Config struct {
	DatabaseURL   string // unset: a private PostgreSQL under DataDir
	Addr          string
	DataDir       string
	SessionSecret string // unset: generated once and kept in DataDir
	LogLevel      slog.Level
	Workers       int // job workers per process
	BcryptCost    int
	MaxStreams    int // live event streams per process (SPEC §17)
	// LLM is chat's OpenAI-compatible model provider; an empty BaseURL
	// leaves chat to its built-in responder.
	LLM llm.Config
}

// Commands lists what the binary can do.
var Commands = []string{"serve", "worker", "migrate", "seed", "replay"}

// LoadConfig reads the environment through getenv and the flags in args.
// The first argument, when it is not a flag, names the command.
func LoadConfig(args []string, getenv func(string) string) (Config, string, []string, error) {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	known := false
	for _, c := range Commands {
		known = known || c == cmd
	}
	if !known {
		return Config{}, "", nil, fmt.Errorf("unknown command %q (want one of %s)", cmd, strings.Join(Commands, ", "))
	}
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	workers, err := strconv.Atoi(env("WORKERS", strconv.Itoa(max(2, runtime.NumCPU()*2))))
	if err != nil {
		return Config{}, "", nil, fmt.Errorf("WORKERS: %w", err)
	}
	cost, err := strconv.Atoi(env("BCRYPT_COST", "10"))
	if err != nil {
		return Config{}, "", nil, fmt.Errorf("BCRYPT_COST: %w", err)
	}
	maxStreams, err := strconv.Atoi(env("MAX_STREAMS", "10000"))
	if err != nil {
		return Config{}, "", nil, fmt.Errorf("MAX_STREAMS: %w", err)
	}
	var c Config
	var level string
	fs := flag.NewFlagSet("fleetprompt "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.DatabaseURL, "database-url", getenv("DATABASE_URL"), "PostgreSQL URL (DATABASE_URL); empty runs a private server")
	fs.StringVar(&c.Addr, "addr", env("ADDR", "127.0.0.1:4000"), "HTTP listen address (ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", env("DATA_DIR", ".fleetprompt"), "directory for the private database and secrets (DATA_DIR)")
	fs.StringVar(&c.SessionSecret, "session-secret", getenv("SESSION_SECRET"), "cookie secret (SESSION_SECRET)")
	fs.StringVar(&level, "log-level", env("LOG_LEVEL", "info"), "debug, info, warn or error (LOG_LEVEL)")
	fs.IntVar(&c.Workers, "workers", workers, "job workers (WORKERS)")
	fs.IntVar(&c.BcryptCost, "bcrypt-cost", cost, "bcrypt work factor (BCRYPT_COST)")
	fs.IntVar(&c.MaxStreams, "max-streams", maxStreams, "live event streams per process (MAX_STREAMS)")
	fs.StringVar(&c.LLM.BaseURL, "llm-base-url", getenv("LLM_BASE_URL"), "OpenAI-compatible API root for chat (LLM_BASE_URL)")
	fs.StringVar(&c.LLM.Model, "llm-model", getenv("LLM_MODEL"), "model name for chat (LLM_MODEL)")
	// The API key is read from the environment only: flags show up in ps.
	c.LLM.APIKey = getenv("LLM_API_KEY")
	// replay's flags are its own filters (app/replay.go); its
	// configuration comes from the environment alone.
	rest := args
	if cmd != "replay" {
		if err := fs.Parse(args); err != nil {
			return Config{}, "", nil, err
		}
		rest = fs.Args()
	}
	if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
		return Config{}, "", nil, fmt.Errorf("LOG_LEVEL: %w", err)
	}
	return c, cmd, rest, nil
}
