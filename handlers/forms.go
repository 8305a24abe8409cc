package handlers

import (
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// formOf is a form holding the submitted values of fields.
func formOf(c *gin.Context, fields ...string) *views.Form {
	f := views.NewForm()
	for _, k := range fields {
		f.Values[k] = c.PostForm(k)
	}
	return f
}

// asValidation is errors.As for a refusal with field messages.
func asValidation(err error, v **store.ValidationError) bool { return err != nil && errors.As(err, v) }

// validationText is a refusal in plain words.
func validationText(v *store.ValidationError) string {
	var parts []string
	for _, m := range v.Fields {
		parts = append(parts, m)
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func itoa(n int) string { return strconv.Itoa(n) }

func trimFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
