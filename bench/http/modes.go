package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"fleetprompt/bench/benchsite"
	"fleetprompt/handlers"
	"fleetprompt/store"
)

// bench is the running application, its cache-off twins, the signed-in
// viewers and the bare Gin server.
type bench struct {
	cfg              config
	site             *benchsite.Site
	missURL, coldURL string
	owner            string   // the owner's cookie
	viewers          []string // one cookie per connection, distinct users
	bareURL          string
	pages            atomic.Pointer[[][]byte] // what the bare server gives connection i
	bareSrv          *http.Server
}

func newBench(ctx context.Context, cfg config) (*bench, error) {
	site, err := benchsite.Start(ctx, benchsite.Options{Fast: cfg.fast, Posts: 50, MaxConns: cfg.dbConns, Workers: cfg.workers})
	if err != nil {
		return nil, err
	}
	b := &bench{cfg: cfg, site: site}
	if b.missURL, err = site.Serve(handlers.Config{ThreadCache: handlers.ThreadCacheFragments}); err == nil {
		b.coldURL, err = site.Serve(handlers.Config{ThreadCache: handlers.ThreadCacheOff})
	}
	if err == nil {
		err = b.signIn(ctx)
	}
	if err == nil {
		err = b.startBare()
	}
	if err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

func (b *bench) close() {
	if b.bareSrv != nil {
		b.bareSrv.Close()
	}
	b.site.Close()
}

// signIn makes the viewers: the owner first, then members of the
// organization (every 8th an admin), each signed in through the real
// routes and acting in the organization.
func (b *bench) signIn(ctx context.Context) error {
	fmt.Fprintf(os.Stderr, "signing in %d viewers…\n", b.cfg.conns)
	var err error
	if b.owner, err = b.login(b.site.Email, false); err != nil {
		return err
	}
	b.viewers = []string{b.owner}
	for i := 1; i < b.cfg.conns; i++ {
		role := store.RoleMember
		if i%8 == 0 {
			role = store.RoleAdmin
		}
		email, err := b.site.AddMember(ctx, i, role)
		if err != nil {
			return err
		}
		c, err := b.login(email, true)
		if err != nil {
			return err
		}
		b.viewers = append(b.viewers, c)
	}
	return nil
}

func (b *bench) login(email string, selectOrg bool) (string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path string, form url.Values) error {
		resp, err := c.PostForm(b.site.URL+path, form)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			return fmt.Errorf("POST %s: status %d", path, resp.StatusCode)
		}
		return nil
	}
	if err := post("/login", url.Values{"email": {email}, "password": {b.site.Password}}); err != nil {
		return "", err
	}
	if selectOrg {
		if err := post("/org/select", url.Values{"slug": {b.site.Tenant.Slug}}); err != nil {
			return "", err
		}
	}
	// A page view shows (and so clears) any flash message, as a browser
	// would before settling on its cookie.
	resp, err := c.Get(b.site.URL + "/forums")
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	u, _ := url.Parse(b.site.URL)
	var cookie string
	for _, ck := range jar.Cookies(u) {
		cookie += ck.Name + "=" + ck.Value + "; "
	}
	return cookie, nil
}

// startBare serves /page/:i, connection i's bytes, from a bare Gin
// engine: no session, no database, no template.
func (b *bench) startBare() error {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.GET("/page/:i", func(c *gin.Context) {
		pages := *b.pages.Load()
		i, err := strconv.Atoi(c.Param("i"))
		if err != nil || i < 0 || i >= len(pages) {
			c.Status(http.StatusNotFound)
			return
		}
		c.Data(http.StatusOK, "text/html; charset=utf-8", pages[i])
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	b.bareSrv = &http.Server{Handler: e}
	go b.bareSrv.Serve(ln)
	b.bareURL = "http://" + ln.Addr().String()
	return nil
}

// mode is one configuration measured against the bare page.
type mode struct {
	name, about string
	base        string   // the app server
	cookies     []string // per connection
	share       float64  // of requests that are replies
	target      string
}

func (b *bench) modes() []mode {
	same := make([]string, b.cfg.conns)
	for i := range same {
		same[i] = b.owner
	}
	return []mode{
		{"hit", "one viewer (the owner, a moderator) on every connection", b.site.URL, same, 0, "≥ 0.40"},
		{"viewers", "distinct signed-in users, 1 in 8 an admin", b.site.URL, b.viewers, 0, "≥ 0.30"},
		{"miss", "no pages kept: every view reads PostgreSQL and renders the page (post fragments kept)", b.missURL, b.viewers, 0, "≥ 0.10"},
		{"cold", "nothing kept: every view renders every post too", b.coldURL, b.viewers, 0, "none"},
		{"mixed", fmt.Sprintf("%.0f %% of requests are replies to the thread (POST, 303)", 100*b.cfg.share), b.site.URL, b.viewers, b.cfg.share, "≥ 0.15, read p99 ≤ 50 ms"},
	}
}

func (b *bench) threadPath() string { return "/forums/t/" + b.site.ThreadID }

// measureMode runs the bare page and the app in alternating rounds.
func (b *bench) measureMode(m mode) (string, error) {
	if err := b.analyze(); err != nil {
		return "", err
	}
	pages := make([][]byte, len(m.cookies))
	size := 0
	for i, ck := range m.cookies {
		p, err := fetch(m.base+b.threadPath(), ck)
		if err != nil {
			return "", err
		}
		pages[i], size = p, size+len(p)
	}
	b.pages.Store(&pages)
	fmt.Printf("\n%s: %s; page %d bytes on average\n", m.name, m.about, size/len(pages))
	var bare, app, warm side
	round := b.cfg.dur / time.Duration(b.cfg.rounds)
	bp := plan{Duration: round}
	ap := plan{Duration: round, ReplyShare: m.share}
	for i, ck := range m.cookies {
		bp.Conns = append(bp.Conns, conn{Get: b.bareURL + "/page/" + strconv.Itoa(i)})
		ap.Conns = append(ap.Conns, conn{Get: m.base + b.threadPath(), Reply: m.base + b.threadPath() + "/replies", Cookie: ck})
	}
	// Unmeasured: every pool connection prepares the statements it runs
	// and plans them five times before PostgreSQL settles on a generic
	// plan, a cost a running server paid long ago.
	if err := b.measure(plan{Conns: ap.Conns, Duration: time.Second, ReplyShare: m.share}, &warm); err != nil {
		return "", err
	}
	for r := 0; r < b.cfg.rounds; r++ {
		fmt.Fprintf(os.Stderr, "%s round %d/%d…\n", m.name, r+1, b.cfg.rounds)
		if err := b.measure(bp, &bare); err != nil {
			return "", err
		}
		if err := b.measure(ap, &app); err != nil {
			return "", err
		}
	}
	bare.line("bare")
	app.line("app")
	ratio, cpu := app.rps()/bare.rps(), bare.cpuPerRequest()/app.cpuPerRequest()
	fmt.Printf("  ratio %.3f (target %s); by CPU per request (server + PostgreSQL + load generator) %.3f\n", ratio, m.target, cpu)
	return fmt.Sprintf("  %-8s ratio %.3f  by CPU %.3f  (target %s)  app %6.0f req/s  read p99 %5.1f ms  CPU/req %4.0f + %3.0f µs (PostgreSQL)",
		m.name, ratio, cpu, m.target, app.rps(), ms(percentile(app.reads, .99)),
		perRequest(app.cpuServer, app.n()), perRequest(app.cpuDB, app.n())), nil
}

// measure runs p in the load generator and adds it to s with the CPU
// the server process, PostgreSQL and the generator used meanwhile.
func (b *bench) measure(p plan, s *side) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	in, _ := json.Marshal(p)
	var out bytes.Buffer
	cmd := exec.Command(self, "-loadgen")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(in), &out, os.Stderr
	s0, db0 := b.site.CPU()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("load generator: %w", err)
	}
	s1, db1 := b.site.CPU()
	var o outcome
	if err := json.Unmarshal(out.Bytes(), &o); err != nil {
		return fmt.Errorf("load generator output: %w", err)
	}
	s.add(o, s1-s0, db1-db0, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
	return nil
}

// analyze refreshes PostgreSQL's statistics before a mode, as autovacuum
// does in time on a live site: the thread grows by thousands of replies
// within seconds here, and planning with its size of a minute ago walks
// the whole thread to show one page.
func (b *bench) analyze() error {
	_, err := b.site.Store.DB.Exec(`ANALYZE`)
	return err
}

func fetch(u, cookie string) ([]byte, error) {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Cookie", cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	return body, err
}
