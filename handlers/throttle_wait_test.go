package handlers

import (
	"testing"
	"time"
)

// The policy: free failures, then waits that double, capped; never a lock.
func TestLoginWaitDoublesAfterTheFreeFailures(t *testing.T) {
	t.Parallel()
	acct, client := loginKeys("Someone@Example.com ", "203.0.113.9")
	if acct != "acct:someone@example.com|ip:203.0.113.9" || client != "ip:203.0.113.9" {
		t.Errorf("keys %q %q", acct, client)
	}
	if _, c6 := loginKeys("x", "2001:db8:1:2:3:4:5:6"); c6 != "ip:2001:db8:1:2::/64" {
		t.Errorf("an IPv6 client counts as %q, want its /64", c6)
	}
	for _, tc := range []struct {
		key       string
		failures  int
		sinceLast time.Duration
		want      time.Duration
	}{
		{acct, 0, 0, 0},
		{acct, 4, 0, 0},
		{acct, 5, 0, 2 * time.Second},
		{acct, 5, 1500 * time.Millisecond, 500 * time.Millisecond},
		{acct, 5, 3 * time.Second, 0},
		{acct, 6, 0, 4 * time.Second},
		{acct, 7, 0, 8 * time.Second},
		{acct, 13, 0, 512 * time.Second},
		{acct, 14, 0, maxDelay},
		{acct, 1000, 0, maxDelay},
		{acct, 1000, maxDelay, 0},
		{client, 19, 0, 0},
		{client, 20, 0, 2 * time.Second},
		{client, 21, time.Second, 3 * time.Second},
	} {
		if got := loginWait(tc.key, tc.failures, tc.sinceLast); got != tc.want {
			t.Errorf("loginWait(%s, %d failures, %v ago) = %v, want %v", tc.key, tc.failures, tc.sinceLast, got, tc.want)
		}
	}
}
