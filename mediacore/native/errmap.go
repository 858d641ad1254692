package native

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"hotline/mediacore"
	"hotline/mediacore/native/rtpengine"
)

// engineErr maps an RTP engine error to the mediacore sentinel a caller
// checks with errors.Is, keeping the engine's error in the chain. gone is
// the sentinel for "the object was closed under us" (ErrNoSuchChannel,
// ErrNoSuchBridge...). Every error a Backend method returns from the
// engine goes through here: the contract promises sentinels only.
func engineErr(op string, err error, gone error) error {
	if err == nil {
		return nil
	}
	var s error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("native: %s: %w", op, err)
	case errors.Is(err, rtpengine.ErrClosed):
		s = gone
	case errors.Is(err, rtpengine.ErrRecording), errors.Is(err, rtpengine.ErrInBridge),
		errors.Is(err, rtpengine.ErrNotMember), errors.Is(err, rtpengine.ErrNoRemote):
		s = mediacore.ErrChannelState
	case errors.Is(err, rtpengine.ErrNoSuchPlayback):
		s = mediacore.ErrNoSuchPlayback
	case errors.Is(err, rtpengine.ErrInvalidArgument):
		s = mediacore.ErrInvalidArgument
	default:
		// Ports exhausted, disk errors while writing a WAV header: the
		// backend cannot do it now.
		s = mediacore.ErrBackendUnavailable
	}
	return fmt.Errorf("%w: native: %s: %w", s, op, err)
}

// fileErr maps a file system error of the recordings or media dir.
func fileErr(op string, err error) error {
	switch {
	case errors.Is(err, os.ErrExist):
		return fmt.Errorf("%w: native: %s: %w", mediacore.ErrInvalidArgument, op, err)
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%w: native: %s: %w", mediacore.ErrInvalidArgument, op, err)
	}
	return fmt.Errorf("%w: native: %s: %w", mediacore.ErrBackendUnavailable, op, err)
}

// ttsErr maps a synthesis failure: no engine installed is ErrNotSupported,
// anything else ErrBackendUnavailable.
func ttsErr(err error) error {
	if errors.Is(err, exec.ErrNotFound) {
		return fmt.Errorf("%w: %w: %w", mediacore.ErrNotSupported, ErrTTS, err)
	}
	return fmt.Errorf("%w: %w: %w", mediacore.ErrBackendUnavailable, ErrTTS, err)
}

// sipErr maps a failed in-dialog transaction (re-INVITE, NOTIFY): a
// context error stays one (Core turns deadlines into ErrTimeout), anything
// else means the far end or the transport failed: ErrBackendUnavailable.
func sipErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || isSentinel(err) {
		return fmt.Errorf("native: %s: %w", op, err)
	}
	return fmt.Errorf("%w: native: %s: %w", mediacore.ErrBackendUnavailable, op, err)
}

// sentinels are the contract's errors (errors.go of mediacore).
var sentinels = []error{
	mediacore.ErrNoSuchChannel, mediacore.ErrNoSuchBridge, mediacore.ErrNoSuchPlayback,
	mediacore.ErrNoSuchRecording, mediacore.ErrBackendUnavailable, mediacore.ErrInvalidEndpoint,
	mediacore.ErrInvalidArgument, mediacore.ErrNotSupported, mediacore.ErrChannelState,
	mediacore.ErrNotFound, mediacore.ErrTimeout, mediacore.ErrClosed, mediacore.ErrNoSuchVariable,
	mediacore.ErrNoSuchNode, mediacore.ErrUnknownBackend,
}

// isSentinel reports whether err wraps one of the contract's sentinels.
func isSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
