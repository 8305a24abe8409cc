package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"fleetprompt/store"
)

// Messages follow Standard Webhooks (standardwebhooks.com): the body is
// {"type", "timestamp", "data"}, and three headers carry the message id
// (the same on every attempt), the attempt's Unix time and the signature:
// "v1," and the base64 HMAC-SHA256 of "<id>.<timestamp>.<body>", keyed
// with the secret's base64-decoded bytes. While a rotated-out secret still
// signs, each secret's signature is sent, space-separated, so a receiver
// that knows either verifies.

// Message is a delivery's body.
type Message struct {
	Type      string      `json:"type"`
	Timestamp string      `json:"timestamp"`
	Data      MessageData `json:"data"`
}

// MessageData is the signal a message carries.
type MessageData struct {
	Seq        int64           `json:"seq"`
	ID         string          `json:"id"`
	Payload    json.RawMessage `json:"payload"`
	Subject    Ref             `json:"subject"`
	Actor      Ref             `json:"actor"`
	OccurredAt string          `json:"occurred_at"`
}

// Ref is a signal's subject or actor.
type Ref struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// Body is the JSON a signal is delivered as.
func Body(sig store.Signal) ([]byte, error) {
	at := sig.OccurredAt.UTC().Format(time.RFC3339Nano)
	payload := sig.Payload
	if len(payload) == 0 {
		payload = json.RawMessage("{}")
	}
	return json.Marshal(Message{Type: sig.Name, Timestamp: at, Data: MessageData{
		Seq: sig.Seq, ID: sig.ID, Payload: payload, OccurredAt: at,
		Subject: Ref{Type: sig.SubjectType, ID: sig.SubjectID}, Actor: Ref{Type: sig.ActorType, ID: sig.ActorID},
	}})
}

// Sign returns the webhook-signature header for a message signed with
// each of secrets. It runs for every attempt, so it builds the header in
// one allocation (the key, the MAC and its base64 on the stack).
func Sign(secrets []string, msgID string, timestamp int64, body []byte) (string, error) {
	var out [2 * (3 + 44 + 1)]byte // two "v1,<base64 of 32 bytes>" and a space fit
	sig := out[:0]
	var ts [20]byte
	tsText := strconv.AppendInt(ts[:0], timestamp, 10)
	for i, s := range secrets {
		var kb [64]byte
		b64 := strings.TrimPrefix(s, store.WebhookSecretPrefix)
		key := kb[:0]
		if base64.StdEncoding.DecodedLen(len(b64)) <= len(kb) {
			n, err := base64.StdEncoding.Decode(kb[:], []byte(b64))
			if err != nil {
				return "", fmt.Errorf("webhook secret is not base64: %w", err)
			}
			key = kb[:n]
		} else {
			var err error
			if key, err = base64.StdEncoding.DecodeString(b64); err != nil {
				return "", fmt.Errorf("webhook secret is not base64: %w", err)
			}
		}
		mac := hmac.New(sha256.New, key)
		io.WriteString(mac, msgID)
		mac.Write([]byte{'.'})
		mac.Write(tsText)
		mac.Write([]byte{'.'})
		mac.Write(body)
		var sum [sha256.Size]byte
		if i > 0 {
			sig = append(sig, ' ')
		}
		sig = append(sig, "v1,"...)
		sig = base64.StdEncoding.AppendEncode(sig, mac.Sum(sum[:0]))
	}
	return string(sig), nil
}
