package handlers

import (
	"errors"
	"strconv"

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

func itoa(n int) string { return strconv.Itoa(n) }

func trimFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
