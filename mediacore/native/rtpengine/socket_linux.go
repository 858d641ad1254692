//go:build linux

package rtpengine

import (
	"fmt"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// On Linux the RTP sockets live outside Go's netpoller: one reactor
// goroutine per Engine waits on all of them with its own epoll set
// (edge-triggered; see reactor for how it waits) and reads each ready socket with one non-blocking recvmmsg, and every send is
// a non-blocking sendto. Compared with one blocking reader goroutine per
// socket this saves a goroutine wake-up and two scheduler passes per
// packet, and one epoll_wait serves every socket that became readable at
// the same time. sendmmsg would not pay here: it batches per socket, and
// each leg's socket sends one packet per received one.
// The RTCP sockets are in the same loop (epoll data: slot<<1 | 1).

// rawSocket is a non-blocking UDP socket.
type rawSocket struct {
	fd   int
	port int
	v6   bool
}

// bindRTP opens and binds the RTP socket of a leg.
func bindRTP(ap netip.AddrPort) (*rawSocket, error) {
	fam := syscall.AF_INET
	if !ap.Addr().Is4() {
		fam = syscall.AF_INET6
	}
	fd, err := syscall.Socket(fam, syscall.SOCK_DGRAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.IPPROTO_UDP)
	if err != nil {
		return nil, fmt.Errorf("rtp socket: %w", err)
	}
	var sa syscall.Sockaddr
	if fam == syscall.AF_INET {
		sa = &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	} else {
		sa = &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	}
	if err := syscall.Bind(fd, sa); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("rtp bind %v: %w", ap, err)
	}
	return &rawSocket{fd: fd, port: int(ap.Port()), v6: fam == syscall.AF_INET6}, nil
}

// writeTo sends b to dst without allocating (raw sockaddr on the stack).
// A full socket buffer (EAGAIN) drops the packet, as the network would.
func (s *rawSocket) writeTo(b []byte, dst netip.AddrPort) error {
	if len(b) == 0 {
		return nil
	}
	var (
		sa4 syscall.RawSockaddrInet4
		sa6 syscall.RawSockaddrInet6
		ptr unsafe.Pointer
		n   uintptr
	)
	port := dst.Port()
	if !s.v6 {
		if !dst.Addr().Is4() {
			return fmt.Errorf("%w: IPv6 destination %v on an IPv4 socket", ErrInvalidArgument, dst)
		}
		sa4.Family = syscall.AF_INET
		sa4.Port = port<<8 | port>>8
		sa4.Addr = dst.Addr().As4()
		ptr, n = unsafe.Pointer(&sa4), syscall.SizeofSockaddrInet4
	} else {
		sa6.Family = syscall.AF_INET6
		sa6.Port = port<<8 | port>>8
		sa6.Addr = dst.Addr().As16()
		ptr, n = unsafe.Pointer(&sa6), syscall.SizeofSockaddrInet6
	}
	_, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(s.fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0, uintptr(ptr), n)
	if e != 0 && e != syscall.EAGAIN {
		return e
	}
	return nil
}

// readFrom reads one datagram; ok is false when none is waiting.
func (s *rawSocket) readFrom(b []byte) (n int, from netip.AddrPort, ok bool) {
	var rsa syscall.RawSockaddrAny
	salen := uint32(syscall.SizeofSockaddrAny)
	r, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, uintptr(s.fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0, uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&salen)))
	if e != 0 {
		return 0, netip.AddrPort{}, false
	}
	return int(r), sockaddrToAddrPort(&rsa), true
}

func (s *rawSocket) close() error { return syscall.Close(s.fd) }

// mmsghdr is struct mmsghdr of recvmmsg(2): Go lays it out like C (the
// trailing padding on 64-bit comes from Msghdr's alignment).
type mmsghdr struct {
	hdr syscall.Msghdr
	n   uint32
}

// recvBatch is the reactor's preallocated recvmmsg(2) state: perWakeup
// datagram buffers with their source addresses. It points into itself, so
// it is allocated once, on the heap, and never copied.
type recvBatch struct {
	msgs  [perWakeup]mmsghdr
	iovs  [perWakeup]syscall.Iovec
	names [perWakeup]syscall.RawSockaddrAny
	bufs  [perWakeup][maxPacket]byte
}

func newRecvBatch() *recvBatch {
	b := new(recvBatch)
	for i := range b.msgs {
		b.iovs[i].Base = &b.bufs[i][0]
		b.iovs[i].SetLen(maxPacket)
		b.msgs[i].hdr.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		b.msgs[i].hdr.Iov = &b.iovs[i]
		b.msgs[i].hdr.Iovlen = 1
	}
	return b
}

// read receives up to perWakeup datagrams from s with one recvmmsg(2)
// (MSG_DONTWAIT: only what is queued now); it returns how many, 0 when none
// was waiting. Datagram i is b.packet(i).
func (b *recvBatch) read(s *rawSocket) int {
	for i := range b.msgs {
		b.msgs[i].hdr.Namelen = syscall.SizeofSockaddrAny
		b.msgs[i].hdr.Flags = 0
	}
	r, _, e := syscall.RawSyscall6(syscall.SYS_RECVMMSG, uintptr(s.fd), uintptr(unsafe.Pointer(&b.msgs[0])), perWakeup, syscall.MSG_DONTWAIT, 0, 0)
	if e != 0 {
		return 0
	}
	return int(r)
}

// packet returns datagram i of the last read and its source.
func (b *recvBatch) packet(i int) ([]byte, netip.AddrPort) {
	return b.bufs[i][:b.msgs[i].n], sockaddrToAddrPort(&b.names[i])
}

// sockaddrToAddrPort converts a raw IPv4 or IPv6 socket address (IPv4-mapped
// addresses unmapped); anything else is the zero AddrPort.
func sockaddrToAddrPort(rsa *syscall.RawSockaddrAny) netip.AddrPort {
	switch rsa.Addr.Family {
	case syscall.AF_INET:
		sa := (*syscall.RawSockaddrInet4)(unsafe.Pointer(rsa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), sa.Port<<8|sa.Port>>8)
	case syscall.AF_INET6:
		sa := (*syscall.RawSockaddrInet6)(unsafe.Pointer(rsa))
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), sa.Port<<8|sa.Port>>8)
	}
	return netip.AddrPort{}
}

// reactor is the Engine's RTP receive loop, with two modes:
//
//   - waiting: the loop parks in Go's netpoller, like any goroutine waiting
//     on a socket, until a socket is readable (instead of blocking an OS
//     thread in epoll_wait, which on a one-core process made the runtime's
//     sysmon retake the P and poll every 20 µs around each wait);
//   - polling: while packets come densely (many calls), the loop sleeps
//     reactorPace, reads whatever every socket has, and sleeps again: one
//     wake-up per reactorPace serves every socket, and packets arriving
//     between two polls wake nobody.
//
// The sockets are in one epoll set (epfd). The netpoller watches a second
// set (epfile) that holds epfd only while waiting: were epfd
// watched all the time, each packet arriving during a polling sleep would
// wake the runtime's idle thread for nothing (measured: at a 4 ms pace,
// more context switches than packets polled).
type reactor struct {
	epfd   int      // the sockets' set
	epfile *os.File // holds epfd while waiting; watched by the netpoller
	epconn syscall.RawConn
	closed atomic.Bool
	// polling mirrors the loop's mode, for tests and diagnostics.
	polling atomic.Bool

	mu    sync.RWMutex // guards slots and free; the loop read-locks per batch
	slots []*Leg
	free  []int32

	wg sync.WaitGroup
}

// reactorPace is the shortest interval between two reactor wake-ups under
// light load (see loop).
const reactorPace = 2 * time.Millisecond

func newReactor() (*reactor, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll: %w", err)
	}
	outer, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err == nil {
		if err = syscall.SetNonblock(outer, true); err != nil {
			syscall.Close(outer)
		}
	}
	if err != nil {
		syscall.Close(epfd)
		return nil, fmt.Errorf("epoll: %w", err)
	}
	// A non-blocking descriptor given to os.NewFile joins the netpoller.
	f := os.NewFile(uintptr(outer), "rtp-epoll")
	r := &reactor{epfd: epfd, epfile: f}
	r.epconn, err = f.SyscallConn()
	if err == nil {
		err = r.attach()
	}
	if err != nil {
		f.Close()
		syscall.Close(epfd)
		return nil, fmt.Errorf("epoll: %w", err)
	}
	r.wg.Add(1)
	go r.loop()
	return r, nil
}

// attach puts the sockets' set in the watched one (waiting mode); a set
// with sockets already readable makes it readable at once.
func (r *reactor) attach() error { return r.watchedCtl(syscall.EPOLL_CTL_ADD) }

// detach takes it out (polling mode).
func (r *reactor) detach() error { return r.watchedCtl(syscall.EPOLL_CTL_DEL) }

// watchedCtl changes the watched set through the file's RawConn, which
// holds the descriptor while it runs: close cannot close it meanwhile, so
// its number is never reused under us (it fails once closed instead).
func (r *reactor) watchedCtl(op int) error {
	var err error
	if cerr := r.epconn.Control(func(fd uintptr) {
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLET&0xffffffff}
		err = syscall.EpollCtl(int(fd), op, r.epfd, &ev)
	}); cerr != nil {
		return cerr
	}
	return err
}

func (r *reactor) add(l *Leg) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var slot int32
	if n := len(r.free); n > 0 {
		slot = r.free[n-1]
		r.free = r.free[:n-1]
		r.slots[slot] = l
	} else {
		slot = int32(len(r.slots))
		r.slots = append(r.slots, l)
	}
	l.slot = slot
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLET&0xffffffff, Pad: slot << 1}
	err := syscall.EpollCtl(r.epfd, syscall.EPOLL_CTL_ADD, l.sock.fd, &ev)
	if err == nil {
		ev.Pad = slot<<1 | 1
		if err = syscall.EpollCtl(r.epfd, syscall.EPOLL_CTL_ADD, l.rtcp.fd, &ev); err != nil {
			_ = syscall.EpollCtl(r.epfd, syscall.EPOLL_CTL_DEL, l.sock.fd, nil)
		}
	}
	if err != nil {
		r.slots[slot] = nil
		r.free = append(r.free, slot)
		return fmt.Errorf("epoll add: %w", err)
	}
	return nil
}

// remove unregisters l; once it returns the loop no longer touches l.
func (r *reactor) remove(l *Leg) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_ = syscall.EpollCtl(r.epfd, syscall.EPOLL_CTL_DEL, l.sock.fd, nil)
	_ = syscall.EpollCtl(r.epfd, syscall.EPOLL_CTL_DEL, l.rtcp.fd, nil)
	if r.slots[l.slot] == l {
		r.slots[l.slot] = nil
		r.free = append(r.free, l.slot)
	}
}

// close ends the loop (closing the file wakes it when waiting; when
// polling it sees closed after its sleep) and waits for it.
func (r *reactor) close() {
	r.closed.Store(true)
	_ = r.epfile.Close()
	r.wg.Wait()
	syscall.Close(r.epfd)
}

// epollWait returns the events ready now, without blocking.
func epollWait(epfd int, events []syscall.EpollEvent) int {
	n, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return 0
	}
	return int(n)
}

// perWakeup is the batch of one recvmmsg. The set is edge-triggered: a
// socket is reported once per arrival of new data, so each wake-up drains
// it (a short batch means the queue is empty, no EAGAIN read needed), up
// to maxBatches batches, so one flooded socket cannot starve the others;
// what a flood leaves is read at its next arrival.
const (
	perWakeup  = 8
	maxBatches = 4
)

func (r *reactor) loop() {
	defer r.wg.Done()
	var events [256]syscall.EpollEvent
	var buf [maxPacket]byte
	batch := newRecvBatch()
	var lastWake time.Time
	polling, full := false, false
	for {
		var n int
		if polling {
			// One wake-up per reactorPace at most; none when the last poll
			// filled half the event array (saturated: poll again at once).
			if d := reactorPace - time.Since(lastWake); d > 0 && !full {
				time.Sleep(d)
			}
			if r.closed.Load() {
				return
			}
			if n = epollWait(r.epfd, events[:]); n == 0 {
				// Quiet for a whole pace: wait for readiness again.
				if err := r.attach(); err != nil {
					continue // keep polling
				}
				polling = false
				r.polling.Store(false)
				continue
			}
		} else {
			// Read calls the function at once and, while it returns
			// false (nothing ready), parks in the netpoller until the
			// watched set becomes readable. It fails once close closed it.
			err := r.epconn.Read(func(uintptr) bool {
				n = epollWait(r.epfd, events[:])
				return n > 0
			})
			if err != nil {
				return
			}
			// Woken again within a pace: packets come densely, poll.
			// This bounds the wake-ups to 1/reactorPace per second, at
			// the price of at most reactorPace of added delay (well
			// inside any jitter buffer).
			if time.Since(lastWake) < reactorPace && r.detach() == nil {
				polling = true
				r.polling.Store(true)
			}
		}
		now := time.Now()
		lastWake, full = now, n >= len(events)/2
		r.mu.RLock()
		for i := range n {
			slot, isRTCP := events[i].Pad>>1, events[i].Pad&1 == 1
			if slot < 0 || int(slot) >= len(r.slots) {
				continue
			}
			l := r.slots[slot]
			if l == nil {
				continue
			}
			if isRTCP {
				for range perWakeup {
					m, from, ok := l.rtcp.readFrom(buf[:])
					if !ok {
						break
					}
					l.handleRTCP(buf[:m], from, now)
				}
				continue
			}
			// Drain: usually one recvmmsg takes everything queued.
			for range maxBatches {
				k := batch.read(l.sock)
				for i := range k {
					pkt, from := batch.packet(i)
					l.handlePacket(pkt, from, now)
				}
				if k < perWakeup {
					break
				}
			}
		}
		r.mu.RUnlock()
	}
}

// startRTP registers the leg's RTP and RTCP sockets with the reactor.
func (e *Engine) startRTP(l *Leg) error { return e.reactor.add(l) }

// stopRTP unregisters it; the socket is closed by the caller.
func (e *Engine) stopRTP(l *Leg) { e.reactor.remove(l) }

func (e *Engine) startIO() error {
	r, err := newReactor()
	if err != nil {
		return err
	}
	e.reactor = r
	return nil
}

func (e *Engine) stopIO() { e.reactor.close() }

// engineIO is the platform part of Engine.
type engineIO struct {
	reactor *reactor
}

// legIO is the platform part of Leg.
type legIO struct {
	slot int32
}
