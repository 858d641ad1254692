package spool

import "errors"

// ErrClosed is returned by a Spool or Writer used after Close.
var ErrClosed = errors.New("spool: closed")

// ErrLocked is returned by Open when another Spool (in this or another
// process) holds the directory.
var ErrLocked = errors.New("spool: directory in use")

// ErrCorrupt is returned when a frame fails its length, checksum or position
// check where no recovery applies (a frame below the durable mark), and by
// DecodeRecord for a payload that is not an encoded Record.
var ErrCorrupt = errors.New("spool: corrupt frame")

// ErrTooLarge is returned by Append for a record above MaxRecordSize.
var ErrTooLarge = errors.New("spool: record too large")

// ErrBroken is returned after an fsync failed: the kernel may have dropped
// the written pages, so the Spool refuses further appends until it is
// reopened (which re-validates the files).
var ErrBroken = errors.New("spool: broken after failed sync")

// ErrAckRange is returned by Ack for a position that is not yet durable.
var ErrAckRange = errors.New("spool: ack beyond the durable records")

// ErrOverloaded is returned by Writer.Submit when MaxPending records are
// already waiting for the disk: the local disk, not the database, is stalled.
var ErrOverloaded = errors.New("spool: writer overloaded")
