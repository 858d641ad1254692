package native

import (
	"encoding/binary"
	"io"
	"time"

	"github.com/pion/rtp"

	"hotline/mediacore/audio"
)

// writePCAP writes RTP packets as a libpcap file of Ethernet/IPv4/UDP frames
// (the format SIPp's play_pcap_audio replays; it only reads the UDP payload
// and the timestamps, so addresses are placeholders). ts holds each
// packet's send time from the start.
func writePCAP(w io.Writer, pkts [][]byte, ts []time.Duration) error {
	var hdr [24]byte
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 65535)
	binary.LittleEndian.PutUint32(hdr[20:], 1) // LINKTYPE_ETHERNET
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	for i, p := range pkts {
		frame := make([]byte, 14+20+8+len(p))
		binary.BigEndian.PutUint16(frame[12:], 0x0800)
		ip := frame[14:]
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(p)))
		ip[8] = 64
		ip[9] = 17
		copy(ip[12:], []byte{127, 0, 0, 1})
		copy(ip[16:], []byte{127, 0, 0, 1})
		var sum uint32
		for k := 0; k < 20; k += 2 {
			sum += uint32(binary.BigEndian.Uint16(ip[k:]))
		}
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
		udp := ip[20:]
		binary.BigEndian.PutUint16(udp[0:], 40000)
		binary.BigEndian.PutUint16(udp[2:], 40002)
		binary.BigEndian.PutUint16(udp[4:], uint16(8+len(p)))
		copy(udp[8:], p)
		var rec [16]byte
		binary.LittleEndian.PutUint32(rec[0:], uint32(ts[i]/time.Second))
		binary.LittleEndian.PutUint32(rec[4:], uint32((ts[i]%time.Second)/time.Microsecond))
		binary.LittleEndian.PutUint32(rec[8:], uint32(len(frame)))
		binary.LittleEndian.PutUint32(rec[12:], uint32(len(frame)))
		if _, err := w.Write(rec[:]); err != nil {
			return err
		}
		if _, err := w.Write(frame); err != nil {
			return err
		}
	}
	return nil
}

// dtmfStream builds an RTP stream of 20 ms PCMU silence frames in which
// each digit is sent as RFC 4733 events (§2.5: start with the marker bit,
// updates every 20 ms with a growing duration, three end packets), 100 ms per
// digit and 100 ms between digits.
func dtmfStream(digits string) ([][]byte, []time.Duration) {
	var pkts [][]byte
	var ts []time.Duration
	seq, stamp := uint16(1000), uint32(8000)
	at := time.Duration(0)
	silence := make([]byte, 160)
	for i := range silence {
		silence[i] = audio.LinearToUlaw(0)
	}
	add := func(pt uint8, marker bool, tstamp uint32, payload []byte) {
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, Marker: marker, SequenceNumber: seq, Timestamp: tstamp, SSRC: 0x5151}, Payload: payload}
		raw, _ := p.Marshal()
		pkts = append(pkts, raw)
		ts = append(ts, at)
		seq++
	}
	audioFrames := func(n int) {
		for range n {
			add(0, false, stamp, silence)
			stamp += 160
			at += 20 * time.Millisecond
		}
	}
	audioFrames(25) // 500 ms of audio first: the answer and source learning settle
	for _, d := range []byte(digits) {
		code := dtmfCode(d)
		start := stamp
		for k := 1; k <= 5; k++ {
			dur := uint16(k * 160)
			flags := byte(10)
			if k == 5 {
				flags |= 0x80
			}
			payload := []byte{code, flags, byte(dur >> 8), byte(dur)}
			n := 1
			if k == 5 {
				n = 3
			}
			for range n {
				add(101, k == 1, start, payload)
			}
			stamp += 160
			at += 20 * time.Millisecond
		}
		audioFrames(5)
	}
	audioFrames(10)
	return pkts, ts
}

func dtmfCode(d byte) byte {
	switch {
	case d >= '0' && d <= '9':
		return d - '0'
	case d == '*':
		return 10
	case d == '#':
		return 11
	}
	return 12 + d - 'A'
}
