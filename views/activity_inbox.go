package views

import "strconv"

// Inbox is the header's notifications badge: how many the person has not
// read yet (the store counts up to 100; the badge says "99+" beyond 99).
type Inbox struct {
	Unread int
	// OOB renders it as an out-of-band swap (an htmx answer that also
	// moves the badge).
	OOB bool
}

// Label is the count as the badge shows it.
func (i Inbox) Label() string {
	if i.Unread > 99 {
		return "99+"
	}
	return strconv.Itoa(i.Unread)
}
