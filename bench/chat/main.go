// Command chat measures what the app adds to a streamed token: 100
// conversations answer at once from a fake OpenAI-compatible provider,
// each token stamped with the time the provider wrote it; a client per
// conversation reads /events?topic=chat:<id> and takes the time each
// token's SSE frame arrives. That delay includes two loopback hops and
// the clients' own parsing on top of the app's work, so its p99 is an
// upper bound of the app's overhead; the same path without the app (the
// fake streaming straight to clients) is printed for comparison. The
// load generator, the fake provider, PostgreSQL and the app share the
// machine: on a busy one the tail is the machine's.
//
//	go run ./bench/chat [-chats 100] [-tokens 150] [-gap 20ms]
//
// It prints the figure last. Target: p99 ≤ 5 ms.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"fleetprompt/bench/benchsite"
	"fleetprompt/jobs/agent/llm"
	"fleetprompt/jobs/agent/llm/llmtest"
)

func main() {
	chats := flag.Int("chats", 100, "concurrent conversations")
	tokens := flag.Int("tokens", 150, "tokens per answer")
	gap := flag.Duration("gap", 20*time.Millisecond, "time between two tokens from the provider (20ms: 50 tokens/s per chat, a fast real model)")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the run here")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if err := run(*chats, *tokens, *gap); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// stamp is the token text: the provider's write time.
func stamp(int) string { return "[" + strconv.FormatInt(time.Now().UnixNano(), 10) + "]" }

var stamped = regexp.MustCompile(`\[(\d{19})\]`)

func run(chats, tokens int, gap time.Duration) error {
	ctx := context.Background()
	fake := llmtest.New(func(llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Chunks: make([]string, tokens), ChunkFunc: stamp, Delay: gap,
			Usage: &llm.Usage{PromptTokens: 10, CompletionTokens: tokens, TotalTokens: 10 + tokens}}
	})
	defer fake.Close()

	base, err := baseline(fake, chats)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}

	site, err := benchsite.Start(ctx, benchsite.Options{Fast: true, MaxConns: 64,
		LLM: llm.New(llm.Config{BaseURL: fake.BaseURL(), Model: "fake", IdleTimeout: time.Minute})})
	if err != nil {
		return err
	}
	defer site.Close()

	var mu sync.Mutex
	var lat []time.Duration
	errs := make(chan error, chats)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < chats; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := oneChat(site, start)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			lat = append(lat, d...)
			mu.Unlock()
		}()
	}
	time.Sleep(500 * time.Millisecond) // every conversation open and followed
	t0 := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(t0)
	close(errs)
	for err := range errs {
		return err
	}
	if len(lat) == 0 {
		return fmt.Errorf("no token reached a stream")
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	bp := func(q float64) time.Duration { return base[min(len(base)-1, int(q*float64(len(base))))] }
	fmt.Printf("provider → client without the app: p50=%v p99=%v (%d tokens)\n", bp(.5).Round(time.Microsecond), bp(.99).Round(time.Microsecond), len(base))
	fmt.Printf("provider → app → SSE client:       p50=%v p99=%v max=%v (%d tokens, %d chats, %v)\n",
		p(.5).Round(time.Microsecond), p(.99).Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond), len(lat), chats, elapsed.Round(time.Millisecond))
	verdict := "ok"
	if p(.99) > 5*time.Millisecond {
		verdict = "OVER TARGET"
	}
	fmt.Printf("chat: streamed token, provider chunk → SSE frame (upper bound of the app's overhead) p50=%v p99=%v with %d concurrent chats (target p99 ≤ 5ms: %s)\n",
		p(.5).Round(time.Microsecond), p(.99).Round(time.Microsecond), chats, verdict)
	return nil
}

// oneChat signs in, starts a conversation, follows it, sends a message
// when start closes, and returns each token's provider-to-frame delay.
func oneChat(site *benchsite.Site, start chan struct{}) ([]time.Duration, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	post := func(path string, form url.Values, hx bool) (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodPost, site.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if hx {
			req.Header.Set("HX-Request", "true")
		}
		resp, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp, nil
	}
	if r, err := post("/login", url.Values{"email": {site.Email}, "password": {site.Password}}, false); err != nil || r.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("login: %v %v", r, err)
	}
	r, err := post("/chat", url.Values{"agent_id": {"builtin"}}, false)
	if err != nil || r.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("new conversation: %v %v", r, err)
	}
	conv := strings.TrimPrefix(r.Header.Get("Location"), "/chat/")
	page, err := c.Get(site.URL + "/chat/" + conv)
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(page.Body)
	page.Body.Close()
	seq := regexp.MustCompile(`data-seq="(\d+)"`).FindSubmatch(b)
	if seq == nil {
		return nil, fmt.Errorf("no seq on the conversation page")
	}
	sctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(sctx, http.MethodGet, site.URL+"/events?topic=chat:"+conv+"&last_event_id="+string(seq[1]), nil)
	stream, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer stream.Body.Close()
	if stream.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("events: %d", stream.StatusCode)
	}
	<-start
	if r, err := post("/chat/"+conv+"/messages", url.Values{"body": {"stream please"}}, true); err != nil || r.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("send: %v %v", r, err)
	}
	return readTokens(stream.Body, "event: chat.message.completed")
}

// readTokens reads SSE lines until the end marker, timing every stamped
// token as its line arrives. r3labs writes a frame's event: line after
// its data: lines, so stamps are kept only once the frame turns out to be
// a delta (a snapshot's or a signal's stamps are not increments).
func readTokens(body io.Reader, end string) ([]time.Duration, error) {
	var out []time.Duration
	pending := 0
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		now := time.Now()
		line := sc.Text()
		switch {
		case line == end:
			return out[:len(out)-pending], nil
		case strings.HasPrefix(line, "event: "):
			if line != "event: chat.message.delta" {
				out = out[:len(out)-pending]
			}
			pending = 0
		case strings.HasPrefix(line, "data: "):
			for _, m := range stamped.FindAllStringSubmatch(line, -1) {
				ns, _ := strconv.ParseInt(m[1], 10, 64)
				out = append(out, now.Sub(time.Unix(0, ns)))
				pending++
			}
		}
	}
	return out, fmt.Errorf("stream ended before the answer completed: %v", sc.Err())
}

// baseline streams the same answers from the fake straight to clients.
func baseline(fake *llmtest.Server, n int) ([]time.Duration, error) {
	var mu sync.Mutex
	var all []time.Duration
	var wg sync.WaitGroup
	errc := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post(fake.BaseURL()+"/chat/completions", "application/json", strings.NewReader(`{"model":"x","stream":true,"messages":[]}`))
			if err != nil {
				errc <- err
				return
			}
			defer resp.Body.Close()
			var out []time.Duration
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				now := time.Now()
				for _, m := range stamped.FindAllStringSubmatch(sc.Text(), -1) {
					ns, _ := strconv.ParseInt(m[1], 10, 64)
					out = append(out, now.Sub(time.Unix(0, ns)))
				}
			}
			mu.Lock()
			all = append(all, out...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	if len(all) == 0 {
		return nil, fmt.Errorf("no tokens")
	}
	return all, nil
}
