package handlers

import (
	"fleetprompt/jobs"
	"fleetprompt/store"
)

// adminJobsData is the jobs page: the queue by kind and state, the jobs
// that failed, and the recent jobs. Only this organization's jobs: the
// table is public, every query filters on the tenant schema.
type adminJobsData struct {
	Depths   []store.JobDepth
	Failures []jobs.Row
	// FailuresNext and FailuresFirst page the failures (failures_after).
	FailuresNext, FailuresFirst string
	Recent                      []jobs.Row
	States                      []string
	// Subscribers is where each signal subscriber stands in this
	// organization's signal log; Parked the signals they gave up on.
	Subscribers []store.SignalCursor
	Head        int64
	Parked      []store.SignalFailure
}

var jobStates = []string{"available", "running", "completed", "discarded", "cancelled"}
