package spool

import (
	"bufio"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
)

// A frame on disk is
//
//	length  uint32 little endian, bytes of payload
//	crc     uint32 little endian, CRC-32C (Castagnoli) of pos and payload
//	pos     uint64 little endian, the record's position
//	payload length bytes
//
// The position inside the checksum makes a frame copied or left over from
// another place fail the check, and lets Open verify that positions are
// contiguous.
const frameHeaderSize = 16

// MaxRecordSize bounds one record's payload; a larger length in a header is
// taken as corruption.
const MaxRecordSize = 16 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errTorn marks a frame that ends before its declared length or fails its
// checksum: the tail of a write that a crash interrupted.
var errTorn = errors.New("spool: torn frame")

func frameCRC(hdr []byte, payload []byte) uint32 {
	c := crc32.Update(0, castagnoli, hdr[8:16])
	return crc32.Update(c, castagnoli, payload)
}

// appendFrame appends the frame of payload at pos to dst.
func appendFrame(dst []byte, pos uint64, payload []byte) []byte {
	var h [frameHeaderSize]byte
	binary.LittleEndian.PutUint32(h[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint64(h[8:16], pos)
	binary.LittleEndian.PutUint32(h[4:8], frameCRC(h[:], payload))
	dst = append(dst, h[:]...)
	return append(dst, payload...)
}

// frameReader reads frames from a stream, counting the bytes of the frames
// it returned so a caller knows where the valid prefix ends.
type frameReader struct {
	r   *bufio.Reader
	off int64 // bytes of complete, valid frames consumed
	buf []byte
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next frame's position and payload; the payload aliases
// an internal buffer valid until the next call. It returns io.EOF at a clean
// end (a frame boundary) and errTorn for a partial or invalid frame, which
// leaves off at the start of that frame.
func (fr *frameReader) next() (uint64, []byte, error) {
	var h [frameHeaderSize]byte
	n, err := io.ReadFull(fr.r, h[:])
	if n == 0 && err == io.EOF {
		return 0, nil, io.EOF
	}
	if err != nil {
		return 0, nil, errTorn
	}
	size := binary.LittleEndian.Uint32(h[0:4])
	if size > MaxRecordSize {
		return 0, nil, errTorn
	}
	if cap(fr.buf) < int(size) {
		fr.buf = make([]byte, size)
	}
	p := fr.buf[:size]
	if _, err := io.ReadFull(fr.r, p); err != nil {
		return 0, nil, errTorn
	}
	if binary.LittleEndian.Uint32(h[4:8]) != frameCRC(h[:], p) {
		return 0, nil, errTorn
	}
	fr.off += frameHeaderSize + int64(size)
	return binary.LittleEndian.Uint64(h[8:16]), p, nil
}
