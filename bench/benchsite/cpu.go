package benchsite

import (
	"time"

	"fleetprompt/bench/benchdb"
)

// CPU is the processor time used so far by this process (the application
// and, in bench/http, the load generator) and by the private PostgreSQL
// (the postmaster and its children), for figures per request that do not
// depend on what else the machine is running. DB is zero when the
// database is not the private one.
func (s *Site) CPU() (self, db time.Duration) {
	self = benchdb.ProcessCPU()
	if s.cluster == nil {
		return self, 0
	}
	return self, benchdb.ServerCPU(s.cluster.Dir)
}
