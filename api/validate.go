package api

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // schedules name IANA zones; do not depend on the host's zoneinfo
	"unicode"
	"unicode/utf8"

	"hotline/controller/store"
)

// Limits of free-text fields, in characters.
const (
	maxName = 64
	maxText = 256
)

func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}

// checkName: 1-64 characters, not blank, no control characters.
func checkName(field, s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return invalidValue(field, "is required")
	case !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxName:
		return invalidValue(field, "must be at most %d characters", maxName)
	case hasControl(s):
		return invalidValue(field, "must not contain control characters")
	}
	return nil
}

// checkText: optional free text up to max characters, no control characters.
func checkText(field, s string, max int) error {
	switch {
	case !utf8.ValidString(s) || utf8.RuneCountInString(s) > max:
		return invalidValue(field, "must be at most %d characters", max)
	case hasControl(s):
		return invalidValue(field, "must not contain control characters")
	}
	return nil
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// checkExtension: 2-8 digits.
func checkExtension(field, s string) error {
	if len(s) < 2 || len(s) > 8 || !allDigits(s) {
		return invalidValue(field, "must be 2 to 8 digits")
	}
	return nil
}

// checkPhone: an optional leading + and 1-32 digits (E.164 numbers, DIDs,
// short codes and prefixes alike).
func checkPhone(field, s string) error {
	d := strings.TrimPrefix(s, "+")
	if len(d) < 1 || len(d) > 32 || !allDigits(d) {
		return invalidValue(field, "must be digits with an optional leading +, at most 32")
	}
	return nil
}

func checkRange(field string, v, lo, hi int) error {
	if v < lo || v > hi {
		return invalidValue(field, "must be from %d to %d", lo, hi)
	}
	return nil
}

// checkSecret: a password that is stored hashed or sent to a carrier.
func checkSecret(field, s string, min, max int) error {
	switch {
	case len(s) < min || len(s) > max:
		return invalidValue(field, "must be %d to %d bytes", min, max)
	case !utf8.ValidString(s) || hasControl(s):
		return invalidValue(field, "must not contain control characters")
	}
	return nil
}

// validID reports whether s has the shape of a store ID, an IVR flow id or
// a mailbox name: 1-64 of [A-Za-z0-9_-]. Anything else is refused before it
// reaches a database, which may reject bytes such as NUL with an error the
// store cannot classify.
func validID(s string) bool {
	return s != "" && len(s) <= 64 && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	})
}

// checkID: a reference field holding an id (see validID).
func checkID(field, s string) error {
	if !validID(s) {
		return invalidValue(field, "must be a record id")
	}
	return nil
}

// refErr turns a lookup failure of a referenced record into a 400 naming the
// field; other failures (an outage) pass through.
func refErr(field string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return invalidValue(field, "refers to a record that does not exist")
	}
	return err
}

func idx(field string, i int) string { return field + "[" + strconv.Itoa(i) + "]" }

func oneOf[T ~string](field string, v T, valid []T) error {
	if !slices.Contains(valid, v) {
		names := make([]string, len(valid))
		for i, x := range valid {
			names[i] = string(x)
		}
		return invalidValue(field, "must be one of %s", strings.Join(names, ", "))
	}
	return nil
}

var targetKinds = []store.TargetKind{
	store.TargetQueue, store.TargetIVR, store.TargetExtension, store.TargetExternal,
	store.TargetVoicemail, store.TargetCallback, store.TargetHangup,
	store.TargetConference,
	store.TargetVoicemailAccess,
	store.TargetRingGroup,
}

// checkTarget validates a destination per kind; selfQueue is the id of the
// queue being edited (a queue must not overflow into itself).
func (s *Server) checkTarget(ctx context.Context, field string, t store.Target, selfQueue string) error {
	if err := oneOf(field+".kind", t.Kind, targetKinds); err != nil {
		return err
	}
	vf := field + ".value"
	switch t.Kind {
	case store.TargetQueue:
		if err := checkID(vf, t.Value); err != nil {
			return err
		}
		if selfQueue != "" && t.Value == selfQueue {
			return invalidValue(vf, "a queue cannot overflow into itself")
		}
		if _, err := s.st.Queues().Get(ctx, t.Value); err != nil {
			return refErr(vf, err)
		}
	case store.TargetIVR:
		return checkID(vf, t.Value)
	case store.TargetExtension:
		return checkExtension(vf, t.Value)
	case store.TargetVoicemail:
		// A box is an agent's extension or a shared box named like an id
		// ("sales").
		return checkID(vf, t.Value)
	case store.TargetExternal:
		return checkPhone(vf, t.Value)
	case store.TargetVoicemailAccess:
		// The phone menu; a value fixes the box (only the PIN is asked).
		if t.Value != "" {
			return checkID(vf, t.Value)
		}
	case store.TargetRingGroup:
		if err := checkID(vf, t.Value); err != nil {
			return err
		}
		if _, err := s.st.RingGroups().Get(ctx, t.Value); err != nil {
			return refErr(vf, err)
		}
	case store.TargetCallback, store.TargetHangup:
		if t.Value != "" {
			return invalidValue(vf, "must be empty for %s", t.Kind)
		}
	case store.TargetConference:
		// A room takes callers from a route; the ACD has no overflow
		// into one.
		if field == "overflow" {
			return invalidValue(field+".kind", "a queue cannot overflow into a conference room")
		}
		if err := checkID(vf, t.Value); err != nil {
			return err
		}
		if _, err := s.st.Conferences().Get(ctx, t.Value); err != nil {
			return refErr(vf, err)
		}
	}
	return nil
}

// checkSkills validates skill requirements or holdings: existing skills,
// levels 1-10, each skill once.
func (s *Server) checkSkills(ctx context.Context, field string, skills []store.SkillLevel) error {
	seen := map[string]bool{}
	for i, sk := range skills {
		f := idx(field, i)
		if err := checkName(f+".skill", sk.Skill); err != nil {
			return err
		}
		if seen[sk.Skill] {
			return invalidValue(f+".skill", "is listed twice")
		}
		seen[sk.Skill] = true
		if err := checkRange(f+".level", sk.Level, 1, 10); err != nil {
			return err
		}
		if _, err := s.st.Skills().GetByName(ctx, sk.Skill); err != nil {
			return refErr(f+".skill", err)
		}
	}
	return nil
}

// checkHost: a DNS name or an IP literal; nothing that could inject into a
// SIP URI or header (no spaces, CR, LF, ';', '@', ':').
func checkHost(field, h string) error {
	if net.ParseIP(h) != nil {
		return nil
	}
	if len(h) == 0 || len(h) > 253 {
		return invalidValue(field, "must be a hostname or an IP address")
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return invalidValue(field, "must be a hostname or an IP address")
		}
		for i := range len(label) {
			ch := label[i]
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-') {
				return invalidValue(field, "must be a hostname or an IP address")
			}
		}
	}
	return nil
}

// parseClock reads "HH:MM" as minutes after midnight; "24:00" is allowed as
// an end of day.
func parseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' || !allDigits(s[:2]) || !allDigits(s[3:]) {
		return 0, false
	}
	h, _ := strconv.Atoi(s[:2])
	m, _ := strconv.Atoi(s[3:])
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}

func checkDate(field, s string) error {
	if _, err := time.Parse(time.DateOnly, s); err != nil || len(s) != len(time.DateOnly) {
		return invalidValue(field, "must be a date YYYY-MM-DD")
	}
	return nil
}

func checkTimeZone(field, tz string) error {
	if tz == "" || tz == "Local" || len(tz) > 64 {
		return invalidValue(field, "must be an IANA time zone such as Asia/Shanghai")
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return invalidValue(field, "unknown time zone %q", tz)
	}
	return nil
}

func checkWeekday(field string, d time.Weekday) error {
	if d < time.Sunday || d > time.Saturday {
		return invalidValue(field, "must be 0 (Sunday) to 6 (Saturday)")
	}
	return nil
}

// checkUsername: 1-64 of [A-Za-z0-9._@-], so usernames are safe in logs,
// URLs and audit records.
func checkUsername(field, s string) error {
	if s == "" || len(s) > maxName || strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._@-", r))
	}) {
		return invalidValue(field, "must be 1 to %d of letters, digits and . _ @ -", maxName)
	}
	return nil
}

func checkAddress(field, a string) error {
	if net.ParseIP(a) != nil {
		return nil
	}
	if _, _, err := net.ParseCIDR(a); err != nil {
		return invalidValue(field, "must be an IP address or a CIDR such as 203.0.113.0/24")
	}
	return nil
}
