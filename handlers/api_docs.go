package handlers

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"
)

// The API's contract is one OpenAPI 3.1 document, written by hand beside
// the handlers and checked against the registered routes and real
// responses by the tests (api_contract_test.go); GET /docs/api renders
// the same document for people, with curl examples.

//go:embed api_openapi.json
var openAPIDoc []byte

// apiOpenAPI is GET /api/v1/openapi.json.
func (h *Handler) apiOpenAPI(c *gin.Context) error {
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/json", openAPIDoc)
	return nil
}

// apiDocsData is the documentation page: the document's operations in
// its tag order, each with a curl example.
type apiDocsData struct {
	Title, Description string
	Base               string // the API's absolute root, for the examples
	Groups             []apiDocsGroup
}

type apiDocsGroup struct {
	Tag        string
	Operations []apiDocsOp
}

type apiDocsOp struct {
	ID, Method, Path, Summary, Description string
	Params                                 []apiDocsParam
	Responses                              []string // "202 The directive, requested."
	Curl                                   string
}

type apiDocsParam struct{ Name, In, Description string }

// openAPI is the part of the document the page reads.
type openAPI struct {
	Info  struct{ Title, Description string }
	Tags  []struct{ Name string }
	Paths map[string]map[string]struct {
		OperationID string `json:"operationId"`
		Summary     string
		Description string
		Tags        []string
		Security    *[]any
		Parameters  []struct{ Name, In, Description string }
		RequestBody *struct {
			Content map[string]struct{ Example json.RawMessage }
		} `json:"requestBody"`
		Responses map[string]struct {
			Ref         string `json:"$ref"`
			Description string
		}
	}
	Components struct {
		Responses map[string]struct{ Description string }
	}
}

// apiDocs is GET /docs/api.
func (h *Handler) apiDocs(c *gin.Context) error {
	var doc openAPI
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		return fmt.Errorf("read the OpenAPI document: %w", err)
	}
	scheme := "http"
	if isTLS(c.Request) {
		scheme = "https"
	}
	d := apiDocsData{Title: doc.Info.Title, Description: doc.Info.Description, Base: scheme + "://" + c.Request.Host + "/api/v1"}
	for _, tag := range doc.Tags {
		g := apiDocsGroup{Tag: tag.Name}
		for path, ops := range doc.Paths {
			for method, op := range ops {
				if len(op.Tags) == 0 || op.Tags[0] != tag.Name {
					continue
				}
				o := apiDocsOp{ID: op.OperationID, Method: strings.ToUpper(method), Path: path, Summary: op.Summary, Description: op.Description}
				var example json.RawMessage
				if op.RequestBody != nil {
					example = op.RequestBody.Content["application/json"].Example
				}
				for _, p := range op.Parameters {
					o.Params = append(o.Params, apiDocsParam{p.Name, p.In, p.Description})
				}
				for code, r := range op.Responses {
					desc := r.Description
					if desc == "" { // a shared refusal
						desc = doc.Components.Responses[strings.TrimPrefix(r.Ref, "#/components/responses/")].Description
					}
					o.Responses = append(o.Responses, code+" "+desc)
				}
				sort.Strings(o.Responses)
				o.Curl = curlExample(d.Base, o.Method, path, example, op.Security == nil)
				g.Operations = append(g.Operations, o)
			}
		}
		sort.Slice(g.Operations, func(i, j int) bool {
			a, b := g.Operations[i], g.Operations[j]
			return a.Path < b.Path || a.Path == b.Path && a.Method > b.Method
		})
		d.Groups = append(d.Groups, g)
	}
	return h.render(c, http.StatusOK, "api_docs", "content", h.page(c, "API", d))
}

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
