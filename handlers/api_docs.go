package handlers

import (
	_ "embed"
	"encoding/json"
	"net/http"

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
