package handlers

import (
	"strconv"
	"strings"
)

func (sc *sessionCache) dropKey(key string) {
	sc.mu.Lock()
	sc.epoch.Add(1)
	delete(sc.m, key)
	sc.mu.Unlock()
}

func (sc *sessionCache) dropUser(userID int64) {
	sc.mu.Lock()
	sc.epoch.Add(1)
	for k, e := range sc.m {
		if e.sess.UserID == userID {
			delete(sc.m, k)
		}
	}
	sc.mu.Unlock()
}

func (sc *sessionCache) dropAll() {
	sc.mu.Lock()
	sc.epoch.Add(1)
	clear(sc.m)
	sc.mu.Unlock()
}

// control applies a message from the hub's control channel: the hub's own
// "session:<hash>" (sign-out) and "member:<org>:<user>" (disabled), and
// session_cache_load.go's "session-changed:<hash>" and "user-changed:<user>".
func (sc *sessionCache) control(msg string) {
	kind, arg, _ := strings.Cut(msg, ":")
	switch kind {
	case "session", "session-changed":
		sc.dropKey(arg)
	case "member":
		_, u, _ := strings.Cut(arg, ":")
		if id, err := strconv.ParseInt(u, 10, 64); err == nil {
			sc.dropUser(id)
		}
	case "user-changed":
		if id, err := strconv.ParseInt(arg, 10, 64); err == nil {
			sc.dropUser(id)
		}
	}
}
