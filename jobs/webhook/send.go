package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"fleetprompt/store"
)

// maxExcerpt is how much of a response the delivery log keeps.
const maxExcerpt = 1024

// maxDrain is how much more of a response is read (and dropped) so the
// connection can be reused; a longer body closes it instead.
const maxDrain = 64 << 10

// attempt sends a delivery once and says how it went, with the retry it
// needs. It never fails: every outcome is an attempt to record.
func (e *Engine) attempt(ctx context.Context, w *store.WebhookSend, body []byte, n int) store.WebhookAttempt {
	start := time.Now()
	a := store.WebhookAttempt{DeliveryID: w.Delivery.ID, EndpointID: w.Endpoint.ID, Attempt: n, At: start, New: w.New,
		SignalSeq: w.Delivery.SignalSeq, SignalName: w.Delivery.SignalName, MessageID: w.Delivery.MessageID,
		EndpointHealthy: !w.Endpoint.FailingSince.Valid}
	if !w.Endpoint.Enabled {
		a.Error = "not sent: the endpoint is disabled"
		return a // failed for good; an admin may redeliver once it is enabled
	}
	a.StatusCode, a.Response, a.Error = e.post(ctx, w, body, start)
	a.Latency = time.Since(start)
	a.OK = a.Error == ""
	if !a.OK {
		a.RetryAt = e.retryAt(n, time.Now())
	}
	return a
}

// post signs and sends the message; errText is "" for a 2xx.
func (e *Engine) post(ctx context.Context, w *store.WebhookSend, body []byte, now time.Time) (status int, excerpt, errText string) {
	ts := now.Unix()
	sig, err := Sign(w.Endpoint.Secrets(now), w.Delivery.MessageID, ts, body)
	if err != nil {
		return 0, "", err.Error()
	}
	// The client's Timeout bounds the whole exchange, body included.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.Endpoint.URL, bytes.NewReader(body))
	if err != nil {
		return 0, "", "bad endpoint URL: " + err.Error()
	}
	// Set in their canonical form (as Header.Set would, less a new key
	// string per header per attempt).
	// The values share one array: one allocation, not five.
	vs := &[5]string{"application/json", "FleetPrompt-Webhooks/1", w.Delivery.MessageID, strconv.FormatInt(ts, 10), sig}
	h := req.Header
	h["Content-Type"], h["User-Agent"], h["Webhook-Id"] = vs[0:1:1], vs[1:2:2], vs[2:3:3]
	h["Webhook-Timestamp"], h["Webhook-Signature"] = vs[3:4:4], vs[4:5:5]
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, "", describe(err, e.cfg.Timeout)
	}
	defer resp.Body.Close()
	excerpt = readExcerpt(resp.Body)
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return resp.StatusCode, excerpt, ""
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return resp.StatusCode, excerpt, fmt.Sprintf("HTTP %d: redirects are not followed", resp.StatusCode)
	}
	return resp.StatusCode, excerpt, fmt.Sprintf("HTTP %d", resp.StatusCode)
}

// excerptBufs are readExcerpt's buffers: most responses are empty, and a
// kilobyte allocated per attempt was garbage at thousands a second.
var excerptBufs = sync.Pool{New: func() any { return new([maxExcerpt]byte) }}

// readExcerpt keeps the first maxExcerpt bytes of a response (cut at a
// rune boundary, invalid UTF-8 replaced) and drains a little more.
func readExcerpt(r io.Reader) string {
	if r == http.NoBody {
		return ""
	}
	buf := excerptBufs.Get().(*[maxExcerpt]byte)
	defer excerptBufs.Put(buf)
	n, _ := io.ReadFull(r, buf[:])
	io.Copy(io.Discard, io.LimitReader(r, maxDrain))
	// PostgreSQL text takes neither NUL nor invalid UTF-8 (a rune cut at
	// the end becomes U+FFFD, which may need trimming back under the cap).
	s := strings.ReplaceAll(strings.ToValidUTF8(string(buf[:n]), "\uFFFD"), "\x00", "")
	for len(s) > maxExcerpt {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// describe says why no response came, for the delivery log.
func describe(err error, timeout time.Duration) string {
	switch {
	case errors.Is(err, errRefusedAddress):
		var s string
		if i := strings.Index(err.Error(), errRefusedAddress.Error()); i >= 0 {
			s = err.Error()[i:]
		}
		return "not sent: " + s
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Sprintf("timed out after %s", timeout)
	}
	return "no response: " + err.Error()
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
