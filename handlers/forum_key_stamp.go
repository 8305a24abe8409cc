package handlers

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
)

// keyStamp makes the fresh idempotency keys of one page: they share a
// random 12-byte prefix and count in the last 4 bytes, so they are unique
// within the page and unguessable across pages, for one read of
// crypto/rand per page instead of one per form (a moderator's page has a
// hundred forms).
type keyStamp struct {
	key  [16]byte
	next uint32
	read bool
}

// append appends the next key, 32 hex digits, to dst.
func (k *keyStamp) append(dst []byte) []byte {
	if !k.read {
		if _, err := rand.Read(k.key[:]); err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		k.next, k.read = binary.BigEndian.Uint32(k.key[12:]), true
	}
	binary.BigEndian.PutUint32(k.key[12:], k.next)
	k.next++
	var h [32]byte
	hex.Encode(h[:], k.key[:])
	return append(dst, h[:]...)
}
