package handlers

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// searchRequest is what GET /search asked for, read from the query
// string, with what is wrong with it by field. It decides nothing else.
func searchRequest(c *gin.Context) (q store.SearchQuery, slug string, errs map[string]string) {
	errs = map[string]string{}
	q = store.SearchQuery{Text: strings.TrimSpace(c.Query("q")), Page: 1}
	slug = strings.TrimSpace(c.Query("category"))
	if p, ok := c.GetQuery("page"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 {
			errs["page"] = fmt.Sprintf("Page %q is not a page number: use 1 or more.", p)
		} else {
			q.Page = n
		}
	}
	if err := q.Validate(); err != nil {
		var v *store.ValidationError
		if errors.As(err, &v) && v.Fields["q"] != "" {
			errs["q"] = "Your search " + v.Fields["q"] + ". Use fewer words."
		}
	}
	return q, slug, errs
}
