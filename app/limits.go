package app

import (
	"log/slog"
	"syscall"
)

// raiseOpenFileLimit lifts the process's soft limit on open files to its
// hard limit, at start: every event stream holds a descriptor, and when
// they run out the server stops accepting anyone ("accept4: too many open
// files", /healthz failing for all). Go's runtime already does this on
// Linux; doing it here keeps it true elsewhere and puts the limit in the
// log, with a warning when maxStreams leaves too few descriptors for
// everything else (database connections, requests, files).
func raiseOpenFileLimit(log *slog.Logger, maxStreams int) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		log.Warn("read the open-file limit", "err", err)
		return
	}
	if l.Cur < l.Max {
		raised := l
		raised.Cur = raised.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
			log.Warn("raise the open-file limit", "limit", l.Cur, "hard", l.Max, "err", err)
		} else {
			l = raised
		}
	}
	const reserve = 1024 // descriptors kept for everything but streams
	if uint64(maxStreams)+reserve > l.Cur {
		log.Warn("MAX_STREAMS leaves few open files for anything else: lower it or raise the hard limit (ulimit -Hn)",
			"max_streams", maxStreams, "open_file_limit", l.Cur)
		return
	}
	log.Info("open-file limit", "limit", l.Cur, "max_streams", maxStreams)
}
