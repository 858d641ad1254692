package store

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"time"
)

// idState makes IDs strictly increasing within one process even when the
// clock stands still or steps back; mu guards last.
var idState struct {
	mu   sync.Mutex
	last uint64 // last issued millisecond timestamp << 16 | sequence
}

// NewID returns a 24-character lowercase hex ID whose lexical order follows
// creation time: 48 bits of Unix milliseconds, 16 bits of a per-millisecond
// sequence, then 32 random bits so that IDs from several nodes do not collide.
func NewID() string {
	idState.mu.Lock()
	next := uint64(time.Now().UnixMilli()) << 16
	if next <= idState.last {
		next = idState.last + 1
	}
	idState.last = next
	idState.mu.Unlock()

	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], next)
	if _, err := rand.Read(b[8:]); err != nil {
		panic("store: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}
