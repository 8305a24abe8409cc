package handlers

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// list is every list's shape: a page of data and the cursor of the next
// page (null on the last).
type list[T any] struct {
	Data []T     `json:"data"`
	Next *string `json:"next"`
}

func newList[T any](data []T, next string) list[T] {
	if data == nil {
		data = []T{}
	}
	l := list[T]{Data: data}
	if next != "" {
		l.Next = &next
	}
	return l
}

// apiLimit reads ?limit= (1..max, default def); anything else is a 422.
func apiLimit(c *gin.Context, def, most int) (int, error) {
	s := c.Query("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > most {
		return 0, store.Invalid("limit", "must be a whole number from 1 to "+strconv.Itoa(most))
	}
	return n, nil
}
