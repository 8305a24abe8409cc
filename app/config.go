package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"strings"
	"time"

	"fleetprompt/jobs/agent"
	"fleetprompt/jobs/agent/llm"
	"fleetprompt/store"
)

// Config is read once at start-up from the environment, with flags that
// mirror it (a flag wins over the variable).
type Config struct {
	DatabaseURL string // unset: a private PostgreSQL under DataDir
	// DirectDatabaseURL carries what needs a session of its own (the
	// LISTEN connections) when DatabaseURL is a pooler; default DatabaseURL.
	DirectDatabaseURL string
	// DatabasePooled says DatabaseURL is a pooler in transaction mode.
	DatabasePooled bool
	// TrustedProxies are the peers (IPs, CIDRs) whose X-Forwarded-For and
	// X-Real-IP name the client; none by default.
	TrustedProxies []string
	Addr           string
	DataDir        string
	SessionSecret  string // unset: generated once and kept in DataDir
	LogLevel       slog.Level
	Workers        int // job workers per process
	BcryptCost     int
	MaxStreams     int // live event streams per process (SPEC §17)
	// LLM is the agents' OpenAI-compatible model provider; an empty
	// BaseURL leaves them to the built-in responder.
	LLM llm.Config
	// Prices give each model's cost per million tokens (LLM_PRICES).
	Prices agent.Prices
	// WebhookAllowPrivate lets webhook endpoints be, and deliveries reach,
	// loopback and private addresses (tests, local development only).
	WebhookAllowPrivate bool
	// ForumPostLimit caps each person's threads and replies
	// (FORUM_POST_LIMIT: "10/1m", the default, or "off").
	ForumPostLimit store.PostLimit
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
	pooled, err := strconv.ParseBool(env("DATABASE_POOLED", "false"))
	if err != nil {
		return Config{}, "", nil, fmt.Errorf("DATABASE_POOLED: %w", err)
	}
	private, err := strconv.ParseBool(env("WEBHOOK_ALLOW_PRIVATE", "false"))
	if err != nil {
		return Config{}, "", nil, fmt.Errorf("WEBHOOK_ALLOW_PRIVATE: %w", err)
	}
	var c Config
	var level, proxies, postLimit string
	fs := flag.NewFlagSet("fleetprompt "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.DatabaseURL, "database-url", getenv("DATABASE_URL"), "PostgreSQL URL (DATABASE_URL); empty runs a private server")
	fs.StringVar(&c.DirectDatabaseURL, "direct-database-url", getenv("DIRECT_DATABASE_URL"), "PostgreSQL URL for LISTEN when DATABASE_URL is a pooler (DIRECT_DATABASE_URL)")
	fs.BoolVar(&c.DatabasePooled, "database-pooled", pooled, "DATABASE_URL is a pooler in transaction mode (DATABASE_POOLED)")
	fs.StringVar(&proxies, "trusted-proxies", getenv("TRUSTED_PROXIES"), "comma-separated proxy IPs/CIDRs whose X-Forwarded-For is believed (TRUSTED_PROXIES)")
	fs.StringVar(&c.Addr, "addr", env("ADDR", "127.0.0.1:4000"), "HTTP listen address (ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", env("DATA_DIR", ".fleetprompt"), "directory for the private database and secrets (DATA_DIR)")
	fs.StringVar(&c.SessionSecret, "session-secret", getenv("SESSION_SECRET"), "cookie secret (SESSION_SECRET)")
	fs.StringVar(&level, "log-level", env("LOG_LEVEL", "info"), "debug, info, warn or error (LOG_LEVEL)")
	fs.IntVar(&c.Workers, "workers", workers, "job workers (WORKERS)")
	fs.IntVar(&c.BcryptCost, "bcrypt-cost", cost, "bcrypt work factor (BCRYPT_COST)")
	fs.IntVar(&c.MaxStreams, "max-streams", maxStreams, "live event streams per process (MAX_STREAMS)")
	fs.StringVar(&c.LLM.BaseURL, "llm-base-url", getenv("LLM_BASE_URL"), "OpenAI-compatible API root for chat (LLM_BASE_URL)")
	fs.BoolVar(&c.WebhookAllowPrivate, "webhook-allow-private", private, "let webhooks reach loopback and private addresses (WEBHOOK_ALLOW_PRIVATE)")
	fs.StringVar(&postLimit, "forum-post-limit", env("FORUM_POST_LIMIT", "10/1m"), "threads and replies per person: <posts>/<duration> or off (FORUM_POST_LIMIT)")
	fs.StringVar(&c.LLM.Model, "llm-model", getenv("LLM_MODEL"), "model name for chat (LLM_MODEL)")
	// The API key is read from the environment only: flags show up in ps.
	c.LLM.APIKey = getenv("LLM_API_KEY")
	var prices string
	fs.StringVar(&prices, "llm-prices", getenv("LLM_PRICES"), "cost per million tokens: model=input/output,... (LLM_PRICES)")
	// replay's flags are its own filters (app/replay.go); its
	// configuration comes from the environment alone.
	rest := args
	if cmd != "replay" {
		if err := fs.Parse(args); err != nil {
			return Config{}, "", nil, err
		}
		rest = fs.Args()
	}
	if err := c.parseTexts(level, prices, postLimit, proxies); err != nil {
		return Config{}, "", nil, err
	}
	return c, cmd, rest, nil
}

// parseTexts reads the settings given as text and checks the database
// settings agree.
func (c *Config) parseTexts(level, prices, postLimit, proxies string) error {
	var err error
	if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("LOG_LEVEL: %w", err)
	}
	if c.Prices, err = agent.ParsePrices(prices); err != nil {
		return err
	}
	if c.ForumPostLimit, err = parsePostLimit(postLimit); err != nil {
		return fmt.Errorf("FORUM_POST_LIMIT: %w", err)
	}
	if c.TrustedProxies, err = parseProxies(proxies); err != nil {
		return fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	if c.DirectDatabaseURL == "" {
		c.DirectDatabaseURL = c.DatabaseURL
	}
	if c.DatabaseURL == "" && (c.DatabasePooled || c.DirectDatabaseURL != "") {
		return errors.New("DIRECT_DATABASE_URL and DATABASE_POOLED need DATABASE_URL")
	}
	return nil
}

// parsePostLimit reads "<posts>/<duration>" ("10/1m") or "off".
func parsePostLimit(s string) (store.PostLimit, error) {
	if s == "off" {
		return store.PostLimit{Posts: -1}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	posts, err := strconv.Atoi(n)
	if !ok || err != nil || posts <= 0 {
		return store.PostLimit{}, fmt.Errorf("%q is not <posts>/<duration> (like 10/1m) or off", s)
	}
	d, err := time.ParseDuration(per)
	if err != nil || d < time.Second {
		return store.PostLimit{}, fmt.Errorf("%q: the duration must be at least 1s, like 1m", s)
	}
	return store.PostLimit{Posts: posts, Per: d}, nil
}

// parseProxies reads a comma-separated list of IPs and CIDRs.
func parseProxies(list string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(list, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR range", p)
		}
		out = append(out, p)
	}
	return out, nil
}
