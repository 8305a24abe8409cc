package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// throughputRound is one burst of runs.
type throughputRound struct {
	runs int
	took time.Duration // first thread written → last run ended
	cpu  cpuUse
	// commits is the database's committed transactions meanwhile (all of
	// them: the workers', the bench's writes and its polling).
	commits int64
}

func (t throughputRound) perSecond() float64 { return float64(t.runs) / t.took.Seconds() }

// measureThroughput writes n threads in Support as fast as writers
// goroutines can, and measures until the last of their runs has ended
// (its post written): runs per second and CPU per run.
func measureThroughput(ctx context.Context, r *rig, d *benchDB, n, writers int) (throughputRound, error) {
	before, commits := sampleCPU(r, d), commitCount(ctx, r)
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				if _, _, err := r.thread(ctx, fmt.Sprintf("Burst question %d", i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return throughputRound{}, err
	}
	if err := r.settle(ctx, 10*time.Minute); err != nil {
		return throughputRound{}, err
	}
	use := sampleCPU(r, d).minus(before)
	var last time.Time
	if err := r.st.DB.GetContext(ctx, &last, r.tn.SQL(`SELECT max(finished_at) FROM {tenant}.workflow_runs WHERE workflow_id = $1`), r.wfID); err != nil {
		return throughputRound{}, err
	}
	return throughputRound{runs: n, took: last.Sub(start), cpu: use, commits: commitCount(ctx, r) - commits}, nil
}

// commitCount is the database's committed transactions so far (its
// statistics, flushed within a second: the count after a round is read
// once the counters caught up).
func commitCount(ctx context.Context, r *rig) int64 {
	time.Sleep(1100 * time.Millisecond)
	var n int64
	r.st.DB.GetContext(ctx, &n, `SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`)
	return n
}
