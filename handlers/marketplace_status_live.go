package handlers

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// installLiveEvents are the signals whose live fragments update install
// statuses in place (out of band, by id) on the marketplace pages, which
// follow the "installations" topic.
var installLiveEvents = strings.Join([]string{
	"package.install.requested", "package.uninstall.requested",
	"package.installation.started", "package.installation.installing", "package.installation.installed",
	"package.installation.failed", "package.installation.uninstalled",
	"package.installation.enabled", "package.installation.disabled",
	"directive.requested", "directive.started", "directive.succeeded", "directive.failed", "directive.canceled",
}, ",")

// liveInstalls is what a marketplace page needs to follow installs live:
// the signal seq it was rendered at (its stream resumes after it) and the
// events to swap.
type liveInstalls struct {
	Seq    int64
	Events string
}

func newIdempotencyKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
