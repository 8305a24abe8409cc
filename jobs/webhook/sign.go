package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
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
// each of secrets.
func Sign(secrets []string, msgID string, timestamp int64, body []byte) (string, error) {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, store.WebhookSecretPrefix))
		if err != nil {
			return "", fmt.Errorf("webhook secret is not base64: %w", err)
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(msgID + "." + strconv.FormatInt(timestamp, 10) + "."))
		mac.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return strings.Join(sigs, " "), nil
}
