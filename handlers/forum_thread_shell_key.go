package handlers

import (
	"strconv"
	"strings"

	"fleetprompt/views"
)

// shellKey names everything the layout shows of p but its content.
func shellKey(p *views.Page) string {
	var b strings.Builder
	b.Grow(256)
	field := func(s string) {
		b.WriteString(s)
		b.WriteByte(0)
	}
	member := func(m views.Membership) {
		field(strconv.FormatInt(m.OrgID, 10))
		field(m.OrgSlug)
		field(m.OrgName)
		field(m.Role)
	}
	field("shell")
	field(p.Title)
	field(p.Path)
	if p.User != nil {
		field(strconv.FormatInt(p.User.ID, 10))
		field(p.User.Name)
		field(p.User.Email)
	}
	if p.Org != nil {
		member(*p.Org)
	}
	field(strconv.Itoa(len(p.Orgs)))
	for _, m := range p.Orgs {
		member(m)
	}
	if p.Inbox != nil { // the header's unread count
		field("inbox " + p.Inbox.Label())
	}
	return b.String()
}
