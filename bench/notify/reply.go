package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"fleetprompt/bench/benchsite"
)

// reply posts o.Replies replies at o.Rate per second as the site's owner,
// round-robin over the people's threads, and times each from just before
// its POST to its starter's badge event.
func reply(ctx context.Context, site *benchsite.Site, people []*person, o options) (result, error) {
	replier := newClient()
	if err := signIn(site, replier, site.Email); err != nil {
		return result{}, err
	}
	var mu sync.Mutex
	var res result
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(o.Rate))
	defer tick.Stop()
	for i := 0; i < o.Replies; i++ {
		<-tick.C
		p := people[i%len(people)]
		start := time.Now()
		r, err := replier.PostForm(site.URL+"/forums/t/"+p.Thread+"/replies", url.Values{"body": {fmt.Sprintf("Reply %d: try tray two.", i)}})
		if err != nil {
			return res, err
		}
		r.Body.Close()
		if r.StatusCode != http.StatusSeeOther {
			return res, fmt.Errorf("reply %d: %d", i, r.StatusCode)
		}
		post := time.Since(start)
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case at := <-p.badges:
				mu.Lock()
				res.Latencies, res.Posts = append(res.Latencies, at.Sub(start)), append(res.Posts, post)
				mu.Unlock()
				// The starter reads it: replies not read yet collapse into
				// one notification, whose count moves no badge, so the
				// next reply to this thread is news only once this one
				// is read.
				if _, err := site.Store.MarkAllNotificationsRead(ctx, site.Tenant, p.ID); err != nil {
					mu.Lock()
					res.Lost++
					mu.Unlock()
				}
			case <-time.After(10 * time.Second):
				mu.Lock()
				res.Lost++
				mu.Unlock()
			case <-ctx.Done():
			}
		}()
	}
	wg.Wait()
	time.Sleep(500 * time.Millisecond) // a stray event to the wrong page would arrive by now
	expected := make(map[*person]int64)
	for i := 0; i < o.Replies; i++ {
		expected[people[i%len(people)]]++
	}
	for _, p := range people {
		if extra := p.received.Load() - expected[p]; extra > 0 {
			res.Wrong += int(extra)
		}
	}
	return res, nil
}
