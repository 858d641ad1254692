package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names of a delivery.
const (
	HeaderSignature = "X-Hotline-Signature"
	HeaderTimestamp = "X-Hotline-Timestamp"
	HeaderEvent     = "X-Hotline-Event"
	HeaderDelivery  = "X-Hotline-Delivery"
)

const sigPrefix = "sha256="

// Sign returns the X-Hotline-Signature value for body sent at timestamp
// (the X-Hotline-Timestamp value): "sha256=" and the hex HMAC-SHA256 of
// timestamp "." body keyed with secret.
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return sigPrefix + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a delivery as a receiving CRM would: the timestamp header
// within tolerance of now, and the signature header equal (in constant
// time) to Sign(secret, timestamp, body).
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts := h.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrStaleTimestamp, ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: %s off", ErrStaleTimestamp, d)
	}
	got := h.Get(HeaderSignature)
	if !strings.HasPrefix(got, sigPrefix) {
		return fmt.Errorf("%w: no %s prefix", ErrBadSignature, sigPrefix)
	}
	if !hmac.Equal([]byte(got), []byte(Sign(secret, ts, body))) {
		return ErrBadSignature
	}
	return nil
}
