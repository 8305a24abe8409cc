package views

import "testing"

func TestPlural(t *testing.T) {
	for _, c := range []struct {
		n    any
		one  string
		many []string
		want string
	}{
		{1, "thread", nil, "1 thread"}, {0, "thread", nil, "0 threads"}, {int64(2), "post", nil, "2 posts"},
		{1, "reply", []string{"replies"}, "1 reply"}, {3, "reply", []string{"replies"}, "3 replies"},
	} {
		if got, err := Plural(c.n, c.one, c.many...); err != nil || got != c.want {
			t.Errorf("Plural(%v, %q) = %q, %v; want %q", c.n, c.one, got, err, c.want)
		}
	}
	if _, err := Plural("3", "thread"); err == nil {
		t.Error("Plural of a string: no error")
	}
}
