package handlers

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Sign-in throttling (SPEC §17). Failures are counted in PostgreSQL, so
// every instance sees them, under two keys per attempt:
//
//   - the account from this client ("acct:<email>|ip:<client>"): guessing
//     someone's password from one place slows down quickly, while that
//     person, signing in from anywhere else, is not slowed at all;
//   - the client ("ip:<client>"), with more room (an office behind one
//     address), so spraying many emails from one place slows down too.
//
// Nothing is ever locked: after a key's free failures each attempt must
// wait twice as long as the last (2 s, 4 s, 8 s … up to maxDelay) after
// the key's latest failure, and a failure older than
// store.LoginFailureWindow is forgotten. A correct password clears the
// account's key. The store counts (StartLoginAttempt, LoginSucceeded);
// loginWait decides. IPv6 clients are counted per /64, which one host can
// otherwise change at will.

const (
	accountFreeFailures = 5
	clientFreeFailures  = 20
	maxDelay            = 15 * time.Minute
)

// loginKeys returns the account key and the client key of an attempt.
func loginKeys(email, clientIP string) (account, client string) {
	client = "ip:" + clientNet(clientIP)
	return "acct:" + strings.ToLower(strings.TrimSpace(email)) + "|" + client, client
}

// clientNet is the address a client is counted under: itself for IPv4,
// its /64 for IPv6.
func clientNet(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil || ip.To4() != nil {
		return addr
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// loginWait is the policy: how long an attempt on key must still wait
// when the key has failures and the last was sinceLast ago.
func loginWait(key string, failures int, sinceLast time.Duration) time.Duration {
	free := clientFreeFailures
	if strings.HasPrefix(key, "acct:") {
		free = accountFreeFailures
	}
	if failures < free {
		return 0
	}
	delay := maxDelay
	if k := failures - free + 1; k < 20 {
		delay = min(maxDelay, time.Duration(1<<k)*time.Second)
	}
	return max(0, delay-sinceLast)
}

// trustProxies makes c.ClientIP read X-Forwarded-For / X-Real-IP only when
// the peer is one of TrustedProxies; Gin would otherwise believe anyone,
// and a guesser could be a new client on every attempt. The app validated
// the list at start-up.
func (h *Handler) trustProxies(r *gin.Engine) {
	if err := r.SetTrustedProxies(h.proxyIPs); err != nil {
		panic(fmt.Sprintf("TrustedProxies: %v", err))
	}
}
