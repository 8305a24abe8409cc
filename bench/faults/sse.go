package main

import (
	"bufio"
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// stream is one EventSource as a browser runs it: it reads events, and
// when the connection ends (or is refused) it connects again with
// Last-Event-ID set to the last id it received, on whichever server the
// balancer picks.
type stream struct {
	client *http.Client
	bases  []string
	path   string

	mu        sync.Mutex
	seqs      []int64 // every event id received, in order, reconnects included
	last      int64
	opens     int         // connections answered 200
	refused   map[int]int // status → count, for connections not answered 200
	dropped   int         // connections that failed or ended
	reloads   int         // live.reload events (too far behind: reload the page)
	connected chan struct{}
	once      sync.Once
}

func newStream(b *browser, path string, after int64) *stream {
	return &stream{
		client: &http.Client{Jar: b.http.Jar, Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 1}},
		bases:  b.bases, path: path, last: after, refused: map[int]int{}, connected: make(chan struct{}),
	}
}

// run keeps the stream open until ctx ends.
func (s *stream) run(ctx context.Context) {
	for ctx.Err() == nil {
		s.connect(ctx)
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(200+rand.IntN(300)) * time.Millisecond): // EventSource's retry, jittered
		}
	}
}

func (s *stream) connect(ctx context.Context) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.bases[rand.IntN(len(s.bases))]+s.path, nil)
	if err != nil {
		return
	}
	s.mu.Lock()
	req.Header.Set("Last-Event-ID", strconv.FormatInt(s.last, 10))
	s.mu.Unlock()
	req.Header.Set("Accept", "text/event-stream")
	resp, err := s.client.Do(req)
	if err != nil {
		s.mu.Lock()
		s.dropped++
		s.mu.Unlock()
		return
	}
	defer resp.Body.Close()
	s.mu.Lock()
	if resp.StatusCode != http.StatusOK {
		s.refused[resp.StatusCode]++
		s.mu.Unlock()
		return
	}
	s.opens++
	s.mu.Unlock()
	s.once.Do(func() { close(s.connected) })
	s.read(bufio.NewReader(resp.Body))
	s.mu.Lock()
	s.dropped++
	s.mu.Unlock()
}

// read parses events until the connection ends: "id:" and "event:"
// lines, dispatched at the blank line that closes an event; comments and
// data are skipped.
func (s *stream) read(r *bufio.Reader) {
	var id, name string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			s.dispatch(id, name)
			id, name = "", ""
		case strings.HasPrefix(line, "id:"):
			id = strings.TrimSpace(line[3:])
		case strings.HasPrefix(line, "event:"):
			name = strings.TrimSpace(line[6:])
		}
	}
}

func (s *stream) dispatch(id, name string) {
	if id == "" {
		return
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = n
	if name == "live.reload" {
		s.reloads++
		return
	}
	s.seqs = append(s.seqs, n)
}

func (s *stream) lastSeq() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// compare counts, against the seqs the stream should have had, the ones
// it missed (gaps), the ones it had more than once, and the ones it
// should not have had at all.
func (s *stream) compare(want []int64) (gaps, dups, extra int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	got := map[int64]int{}
	for _, n := range s.seqs {
		got[n]++
	}
	expected := map[int64]bool{}
	for _, n := range want {
		expected[n] = true
		if got[n] == 0 {
			gaps++
		}
	}
	for n, c := range got {
		if c > 1 {
			dups += c - 1
		}
		if !expected[n] {
			extra++
		}
	}
	return gaps, dups, extra
}
