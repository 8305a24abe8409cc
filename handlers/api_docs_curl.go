package handlers

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"strings"
)

// curlExample is a request a person can paste, with the key in a
// variable so it never lands in their shell history.
func curlExample(base, method, path string, body json.RawMessage, keyed bool) string {
	var b strings.Builder
	b.WriteString("curl")
	if method != http.MethodGet {
		b.WriteString(" -X " + method)
	}
	b.WriteString(" '" + base + path + "'")
	if keyed {
		b.WriteString(` \` + "\n  -H \"Authorization: Bearer $FLEETPROMPT_API_KEY\"")
	}
	if len(body) > 0 {
		b.WriteString(` \` + "\n  -H 'Content-Type: application/json'")
		if method == http.MethodPost {
			b.WriteString(` \` + "\n  -H \"Idempotency-Key: $(uuidgen)\"")
		}
		compact, _ := json.Marshal(body)
		b.WriteString(` \` + "\n  -d '" + string(compact) + "'")
	}
	return b.String()
}
