package views

import (
	"hash/fnv"
	"strings"
	"unicode"
)

// Avatar is a generated initials avatar: no uploads, no requests, the
// same letters and colour for the same name on every page. Templates make
// one with the "avatar" function and draw it with the "avatar" partial:
//
//	{{template "avatar" (avatar .Name)}}
type Avatar struct {
	Initials string // one or two uppercase letters, "?" for a name without any
	// Class is one of AvatarColours classes, picked by a hash of the
	// name, so a person keeps their colour.
	Class string
	Large bool // the profile's big variant
}

// AvatarColours is how many colour classes app.css defines (avatar-c0 …):
// each dark enough for white letters at WCAG AA.
const AvatarColours = 8

// NewAvatar makes the avatar of a person's (or an agent's) name, or of an
// email before its owner has a name: the first letters of its first and
// last words.
func NewAvatar(name string) Avatar {
	if i := strings.IndexByte(name, '@'); i > 0 {
		name = name[:i] // an email: its person's part
	}
	words := strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	var initials []rune
	for i, w := range words {
		if i == 0 || i == len(words)-1 {
			initials = append(initials, unicode.ToUpper([]rune(w)[0]))
		}
	}
	a := Avatar{Initials: string(initials)}
	if a.Initials == "" {
		a.Initials = "?"
	}
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(strings.TrimSpace(name))))
	a.Class = "avatar-c" + string(rune('0'+h.Sum32()%AvatarColours))
	return a
}

// LargeAvatar is NewAvatar's big variant, for a profile's heading.
func LargeAvatar(name string) Avatar {
	a := NewAvatar(name)
	a.Large = true
	return a
}
