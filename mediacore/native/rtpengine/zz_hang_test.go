package rtpengine

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestZZHang(t *testing.T) {
	relayed, decoding, src := fuzzLegs(t)
	r := rand.New(rand.NewPCG(1, 2))
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			panic("hang")
		}
	}()
	for i := range 200000 {
		n := r.IntN(200)
		b := make([]byte, n)
		for k := range b {
			b[k] = byte(r.Uint32())
		}
		if n > 0 && r.IntN(2) == 0 {
			b[0] = 0x80 | b[0]&0x3f
		}
		if n > 1 && r.IntN(2) == 0 {
			b[1] = b[1]&0x80 | []byte{0, 101}[r.IntN(2)]
		}
		cp := append([]byte(nil), b...)
		relayed.handlePacket(b, src.addr, time.Now())
		decoding.handlePacket(cp, src.addr, time.Now())
		relayed.handleRTCP(cp, src.addr, time.Now())
		_ = i
	}
	close(done)
}
