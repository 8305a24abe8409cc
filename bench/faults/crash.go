package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// crashOptions shape the crash loop.
type crashOptions struct {
	tenants  int
	kills    int
	every    time.Duration // between kills
	settle   time.Duration // how long to wait for directives to end after the last kill
	packages []string
}

// tenant is one organization of the run, its owner's browser and its thread.
type tenant struct {
	slug   string
	owner  *browser
	thread string
}

// sent is what the crash loop remembers of one form it submitted.
type sent struct {
	acked  bool // a 303 (or an htmx 200) came back
	double bool // the same form was deliberately sent twice
}

// crashLoop drives the load and the kills and remembers what was
// acknowledged, to be compared with the database afterwards.
type crashLoop struct {
	opt crashOptions
	f   *fleet
	d   *database

	mu       sync.Mutex
	replies  map[string]*sent // reply body → outcome
	forms    map[string]*sent // install/uninstall idempotency key → outcome
	statuses map[string]int   // "reply 303", "install 422", "reply error" …
	resends  atomic.Int64     // forms sent again after an error

	kills    int
	midJob   int // kills that caught the victim with a job running
	serveK   int
	lastKill time.Time
}

// crashReport is the crash loop's figures.
type crashReport struct {
	kills, midJob, serveKills   int
	directives                  map[string]int
	open                        int // requested or running at the end
	settled                     time.Duration
	settledOK                   bool
	dupAgents, dupInstallations int
	dupPosts, dupPostsDoubled   int
	dupSignals, extraStarts     int
	dupDirectiveKeys            int
	activityExtra               int
	activityBehind              int
	ackedReplies, ackedForms    int
	missingReplies, missingForm int
	statuses                    map[string]int
	resends                     int64
	unexpectedExits             []string
	stuck                       string // where the open directives are
}

func runCrashLoop(ctx context.Context, f *fleet, d *database, tenants []*tenant, opt crashOptions) (crashReport, error) {
	cl := &crashLoop{opt: opt, f: f, d: d, replies: map[string]*sent{}, forms: map[string]*sent{}, statuses: map[string]int{}}
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, tn := range tenants {
		wg.Add(1)
		go func() { defer wg.Done(); cl.drive(loadCtx, tn) }()
	}
	fmt.Fprintf(os.Stderr, "crash loop: %d tenants under load, %d × kill -9 every %s\n", len(tenants), opt.kills, opt.every)
	cl.killAll(ctx)
	// The load ends with the last kill: from here on only the platform
	// works, finishing what was asked.
	stopLoad()
	wg.Wait()
	return cl.report(ctx)
}

// drive is one organization's owner at work until ctx ends: replies
// (some double-submitted), installs and uninstalls through the
// marketplace page's own forms (some double-submitted).
func (cl *crashLoop) drive(ctx context.Context, tn *tenant) {
	n := 0
	for ctx.Err() == nil {
		n++
		if rand.IntN(10) < 4 {
			cl.reply(tn, n, rand.IntN(5) == 0)
		} else {
			cl.packageForm(tn, cl.opt.packages[rand.IntN(len(cl.opt.packages))], rand.IntN(3) == 0)
		}
		time.Sleep(time.Duration(20+rand.IntN(80)) * time.Millisecond)
	}
}

// reply opens the thread page and posts its reply form, with the form's
// idempotency key when it has one.
func (cl *crashLoop) reply(tn *tenant, n int, double bool) {
	page, err := tn.owner.get("/forums/t/" + tn.thread)
	if err != nil {
		cl.count("page error")
		return
	}
	body := fmt.Sprintf("fault-reply %s %d %08x", tn.slug, n, rand.Uint32())
	form := url.Values{"body": {body}}
	if key := formKey(page.body, `id="reply-form"`); key != "" {
		form.Set("idempotency_key", key)
	}
	rec := &sent{double: double}
	cl.mu.Lock()
	cl.replies[body] = rec
	cl.mu.Unlock()
	cl.send("reply", tn, "/forums/t/"+tn.thread+"/replies", form, rec)
}

// packageForm opens the package's page as the owner would and submits one
// of the forms it offers: uninstall (sometimes with purge) or install.
// While a directive is pending the page offers neither, so nothing is sent.
func (cl *crashLoop) packageForm(tn *tenant, pkg string, double bool) {
	page, err := tn.owner.get("/marketplace/" + pkg)
	if err != nil {
		cl.count("page error")
		return
	}
	install, uninstall := formKey(page.body, `data-testid="install-form"`), formKey(page.body, `data-testid="uninstall-form"`)
	form := url.Values{"slug": {pkg}, "return_to": {"/marketplace/" + pkg}}
	path, what := "/marketplace/install", "install"
	switch {
	case uninstall != "" && rand.IntN(2) == 0:
		path, what = "/marketplace/uninstall", "uninstall"
		form.Set("idempotency_key", uninstall)
		if rand.IntN(2) == 0 {
			form.Set("purge", "1")
		}
	case install != "":
		form.Set("idempotency_key", install)
	default:
		cl.count("package pending")
		return
	}
	rec := &sent{double: double}
	cl.mu.Lock()
	cl.forms[form.Get("idempotency_key")] = rec
	cl.mu.Unlock()
	cl.send(what, tn, path, form, rec)
}

// send submits the form once, or twice at the same moment (a double
// click), each resent after an error as a person would.
func (cl *crashLoop) send(what string, tn *tenant, path string, form url.Values, rec *sent) {
	copies := 1
	if rec.double {
		copies = 2
	}
	var wg sync.WaitGroup
	for range copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, tries, err := tn.owner.submit(path, form, 60*time.Second)
			cl.resends.Add(int64(tries - 1))
			cl.mu.Lock()
			defer cl.mu.Unlock()
			if err != nil {
				cl.statuses[what+" error"]++
				return
			}
			cl.statuses[fmt.Sprintf("%s %d", what, r.status)]++
			if r.status == http.StatusSeeOther {
				rec.acked = true
			}
		}()
	}
	wg.Wait()
}

func (cl *crashLoop) count(what string) {
	cl.mu.Lock()
	cl.statuses[what]++
	cl.mu.Unlock()
}

// killAll kills a process every opt.every: workers in turn, and every
// tenth kill a serve process; each is started again at once (a service
// manager's restart). A victim is given a moment to be inside a job, so
// most kills land mid-directive.
func (cl *crashLoop) killAll(ctx context.Context) {
	for i := 0; i < cl.opt.kills && ctx.Err() == nil; i++ {
		time.Sleep(cl.opt.every)
		victim := cl.f.workers[i%len(cl.f.workers)]
		if i%10 == 4 {
			victim = cl.f.serves[(i/10)%len(cl.f.serves)]
			cl.serveK++
		}
		if cl.waitBusy(ctx, victim, 2*time.Second) {
			cl.midJob++
		}
		victim.kill9()
		cl.kills++
		cl.lastKill = time.Now()
		fmt.Fprintf(os.Stderr, "  kill %d/%d: %s\n", i+1, cl.opt.kills, victim.name)
		if err := victim.start(); err != nil {
			fmt.Fprintf(os.Stderr, "bench/faults: restart %s: %v\n", victim.name, err)
		}
	}
}

// waitBusy waits until a's process holds a running job (its runner's id
// is host:pid:…), up to limit.
func (cl *crashLoop) waitBusy(ctx context.Context, a *app, limit time.Duration) bool {
	pattern := fmt.Sprintf("%%:%d:%%", a.pid())
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		var n int
		if err := cl.d.db.GetContext(ctx, &n, `SELECT count(*) FROM jobs WHERE state = 'running' AND attempted_by LIKE $1 AND kind = 'directive.execute'`, pattern); err == nil && n > 0 {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}
