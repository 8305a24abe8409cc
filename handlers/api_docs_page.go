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
