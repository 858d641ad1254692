package freeswitch

import "errors"

// errMalformed: the switch sent something that is not the ESL wire format;
// the connection is closed and redialled.
var errMalformed = errors.New("freeswitch: malformed ESL frame")

// errAuth: the switch refused the password.
var errAuth = errors.New("freeswitch: ESL authentication failed")

// errConnClosed: the connection closed while a command waited.
var errConnClosed = errors.New("freeswitch: ESL connection closed")

// errCmdTimeout: a command got no reply in time; the connection is treated
// as dead.
var errCmdTimeout = errors.New("freeswitch: ESL command timed out")

// ErrInsecureConfig is returned by New for a configuration that would expose
// the switch: the default password ClueCon, or a non-loopback address
// without AllowRemote.
var ErrInsecureConfig = errors.New("freeswitch: insecure configuration")
