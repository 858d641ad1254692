package freeswitch

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"hotline/mediacore"
)

// Every string that reaches an ESL command line goes through one of the
// checks below, on top of Core's (ValidateDialString, ParseEndpoint,
// ValidateID, ValidateMedia). ESL commands are one line of words separated
// by spaces; originate variables sit in {k=v,...}; inline dialplans split
// on ','; file_string:// on '!'. The checks are allowlists, so a field that
// passes cannot end the line, start a new variable, a new application or a
// new file, or expand ${...}.

// checkID accepts a channel, bridge, playback or recording id.
func checkID(kind, s string) error {
	if err := mediacore.ValidateID(s); err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	return nil
}

// safePath accepts a relative or absolute file path of letters, digits and
// "-_.+/" without "..", "//" or a leading '-'.
func safePath(p string) bool {
	if p == "" || len(p) > mediacore.MaxDialLen || strings.HasPrefix(p, "-") || strings.Contains(p, "//") {
		return false
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." || part == "." {
			return false
		}
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.+/", c) >= 0) {
			return false
		}
	}
	return true
}

// checkValue accepts an originate variable value or a caller id number:
// Core's ValidateDialString, and none of FreeSWITCH's other delimiters
// ('^' changes the list delimiter, '[' ']' start per-leg variables, '='
// and ';' are kept out too).
func checkValue(what, v string) error {
	if err := mediacore.ValidateDialString(v); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if strings.ContainsAny(v, "^[]=;!%") {
		return fmt.Errorf("%w: %s %q", mediacore.ErrInvalidArgument, what, v)
	}
	return nil
}

// checkDisplayName accepts a caller id name that is then single-quoted.
func checkDisplayName(v string) error {
	if err := mediacore.ValidateDisplayName(v); err != nil {
		return err
	}
	if !utf8.ValidString(v) || strings.ContainsAny(v, "^[]=;!%\r\n\t") {
		return fmt.Errorf("%w: caller id name %q", mediacore.ErrInvalidArgument, v)
	}
	return nil
}

// checkVarName accepts a channel variable name (letters, digits, '-', '_').
func checkVarName(k string) error {
	if k == "" || len(k) > 64 {
		return fmt.Errorf("%w: variable name %q", mediacore.ErrInvalidArgument, k)
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("%w: variable name %q", mediacore.ErrInvalidArgument, k)
		}
	}
	return nil
}

// checkDigits accepts DTMF digits.
func checkDigits(d string) error {
	if err := mediacore.ValidateDigits(d); err != nil {
		return err
	}
	return nil
}
