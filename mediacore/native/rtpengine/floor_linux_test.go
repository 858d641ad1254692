//go:build linux

package rtpengine

import (
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// floorForwarder is the cheapest possible relay, for comparison: epoll,
// recvfrom and sendto of each datagram to the other side's peer, with no
// RTP work at all. BenchmarkLoad's "floor" rows run it under the same
// peers to show what the kernel alone costs on this machine right now.
type floorForwarder struct {
	epfd  int
	socks []*rawSocket
	dst   []netip.AddrPort // dst[i]: where what arrives on socks[i] goes
	done  chan struct{}
}

func newFloorForwarder(b *testing.B, n int) *floorForwarder {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		b.Fatal(err)
	}
	f := &floorForwarder{epfd: epfd, done: make(chan struct{})}
	for i := range 2 * n {
		s, err := bindRTP(netip.AddrPortFrom(loopback, 0))
		if err != nil {
			b.Fatal(err)
		}
		sa, err := syscall.Getsockname(s.fd)
		if err != nil {
			b.Fatal(err)
		}
		s.port = sa.(*syscall.SockaddrInet4).Port
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Pad: int32(i)}
		if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, s.fd, &ev); err != nil {
			b.Fatal(err)
		}
		f.socks = append(f.socks, s)
	}
	f.dst = make([]netip.AddrPort, 2*n)
	return f
}

func (f *floorForwarder) run() {
	var events [256]syscall.EpollEvent
	batch := newRecvBatch()
	var lastWake time.Time
	for {
		select {
		case <-f.done:
			return
		default:
		}
		n, err := syscall.EpollWait(f.epfd, events[:], floorWait)
		if err != nil && err != syscall.EINTR {
			return
		}
		// The same pacing as the reactor, so the floor is the kernel's
		// per-packet cost with wake-ups amortized the same way.
		if now := time.Now(); n > 0 && n < len(events)/2 && now.Sub(lastWake) < reactorPace {
			time.Sleep(reactorPace - now.Sub(lastWake))
			if n2, err := syscall.EpollWait(f.epfd, events[:], 0); err == nil && n2 > 0 {
				n = n2
			}
		}
		lastWake = time.Now()
		for i := range max(n, 0) {
			k := events[i].Pad
			for i := range batch.read(f.socks[k]) {
				pkt, _ := batch.packet(i)
				_ = f.socks[k^1].writeTo(pkt, f.dst[k^1])
			}
		}
	}
}

// floorWait bounds each epoll_wait so close is noticed (ms).
const floorWait = 100

func (f *floorForwarder) close() {
	close(f.done)
	time.Sleep(2 * floorWait * time.Millisecond)
	for _, s := range f.socks {
		_ = s.close()
	}
	syscall.Close(f.epfd)
}

// BenchmarkKernelFloor is the kernel's floor per forwarded packet on this
// machine: one loopback sendto and the matching receive, nothing else
// (raw non-blocking sockets, the engine's own send and receive calls).
// "sendto+recvfrom" is the classic pair; "sendto+recvmmsg" receives with
// the reactor's one-call batch read.
//
//	go test -run '^$' -bench KernelFloor -benchmem ./mediacore/native/rtpengine/
func BenchmarkKernelFloor(b *testing.B) {
	pair := func(b *testing.B) (tx, rx *rawSocket, dst netip.AddrPort) {
		tx, err := bindRTP(netip.AddrPortFrom(loopback, 0))
		if err != nil {
			b.Fatal(err)
		}
		rx, err = bindRTP(netip.AddrPortFrom(loopback, 0))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = tx.close(); _ = rx.close() })
		sa, err := syscall.Getsockname(rx.fd)
		if err != nil {
			b.Fatal(err)
		}
		return tx, rx, netip.AddrPortFrom(loopback, uint16(sa.(*syscall.SockaddrInet4).Port))
	}
	pkt := rtpPacket(8, 1, 160, 42, make([]byte, 160))
	b.Run("sendto+recvfrom", func(b *testing.B) {
		tx, rx, dst := pair(b)
		var buf [maxPacket]byte
		b.ReportAllocs()
		for b.Loop() {
			if err := tx.writeTo(pkt, dst); err != nil {
				b.Fatal(err)
			}
			if _, _, ok := rx.readFrom(buf[:]); !ok {
				b.Fatal("loopback datagram not delivered at once")
			}
		}
	})
	b.Run("sendto+recvmmsg", func(b *testing.B) {
		tx, rx, dst := pair(b)
		batch := newRecvBatch()
		b.ReportAllocs()
		for b.Loop() {
			if err := tx.writeTo(pkt, dst); err != nil {
				b.Fatal(err)
			}
			if batch.read(rx) != 1 {
				b.Fatal("loopback datagram not delivered at once")
			}
		}
	})
}
