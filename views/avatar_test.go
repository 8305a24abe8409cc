package views

import (
	"strings"
	"testing"
)

func TestNewAvatar(t *testing.T) {
	for name, want := range map[string]string{
		"Admin User": "AU", "madonna": "M", "Ana María López": "AL", "émile zola": "ÉZ",
		"": "?", " -- ": "?", "R2-D2": "RD", "o'brien": "OB", "李小龍": "李", "new.person@example.com": "NP",
	} {
		a := NewAvatar(name)
		if a.Initials != want {
			t.Errorf("NewAvatar(%q).Initials = %q, want %q", name, a.Initials, want)
		}
		if !strings.HasPrefix(a.Class, "avatar-c") || len(a.Class) != len("avatar-c0") {
			t.Errorf("NewAvatar(%q).Class = %q", name, a.Class)
		}
	}
	// The colour follows the person, not the spelling of the moment.
	if NewAvatar("Admin User").Class != NewAvatar("  admin user ").Class {
		t.Error("one name, two colours")
	}
	seen := map[string]bool{}
	for _, n := range []string{"Ana", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kai", "Lu"} {
		seen[NewAvatar(n).Class] = true
	}
	if len(seen) < 4 {
		t.Errorf("twelve names share %d colours", len(seen))
	}
	if !LargeAvatar("Ana").Large || NewAvatar("Ana").Large {
		t.Error("Large variant")
	}
}
