//go:build !linux

package rtpengine

import (
	"errors"
	"net"
	"net/netip"
	"time"
)

// Elsewhere than Linux each leg's RTP socket is a net.UDPConn read by its
// own goroutine (see socket_linux.go for the epoll reactor).

type rawSocket struct {
	conn *net.UDPConn
	port int
}

func bindRTP(ap netip.AddrPort) (*rawSocket, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
	if err != nil {
		return nil, err
	}
	return &rawSocket{conn: c, port: int(ap.Port())}, nil
}

func (s *rawSocket) writeTo(b []byte, dst netip.AddrPort) error {
	_, err := s.conn.WriteToUDPAddrPort(b, dst)
	return err
}

func (s *rawSocket) close() error { return s.conn.Close() }

type engineIO struct{}

type legIO struct{}

func (e *Engine) startIO() error { return nil }

func (e *Engine) stopIO() {}

func (e *Engine) startRTP(l *Leg) error {
	l.readers.Add(2)
	go l.readRTP()
	go l.readRTCP()
	return nil
}

func (e *Engine) stopRTP(l *Leg) {}

// readRTP is the leg's RTP reader goroutine: one preallocated buffer, no
// allocation per packet.
func (l *Leg) readRTP() {
	defer l.readers.Done()
	var buf [maxPacket]byte
	for {
		n, from, err := l.sock.conn.ReadFromUDPAddrPort(buf[:])
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		l.handlePacket(buf[:n], netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), time.Now())
	}
}

// readRTCP is the leg's RTCP reader goroutine.
func (l *Leg) readRTCP() {
	defer l.readers.Done()
	var buf [maxPacket]byte
	for {
		n, from, err := l.rtcp.conn.ReadFromUDPAddrPort(buf[:])
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		l.handleRTCP(buf[:n], netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), time.Now())
	}
}
