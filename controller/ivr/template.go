package ivr

import (
	"encoding/json"
	"net/url"
	"strings"
)

// A template is text with ${name} placeholders replaced by call variables
// (an unset variable is empty). A "$" not followed by "{" is literal; "${"
// must be followed by a variable name and "}".

// tmplPart is a literal (name == "") or a placeholder.
type tmplPart struct {
	lit, name string
}

// parseTemplate splits s into parts; the error message says what is wrong.
func parseTemplate(s string) ([]tmplPart, string) {
	var parts []tmplPart
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			if s != "" {
				parts = append(parts, tmplPart{lit: s})
			}
			return parts, ""
		}
		if i > 0 {
			parts = append(parts, tmplPart{lit: s[:i]})
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			return nil, "unclosed ${"
		}
		name := s[i+2 : i+2+end]
		if !validVarName(name) {
			return nil, "bad variable name in ${" + clip(name, 40) + "}"
		}
		parts = append(parts, tmplPart{name: name})
		s = s[i+2+end+1:]
	}
}

// render substitutes vars into a template already checked by Validate;
// esc escapes each value (nil: none).
func render(s string, vars map[string]string, esc func(string) string) string {
	parts, msg := parseTemplate(s)
	if msg != "" {
		return s
	}
	var b strings.Builder
	for _, p := range parts {
		if p.name == "" {
			b.WriteString(p.lit)
			continue
		}
		v := vars[p.name]
		if esc != nil {
			v = esc(v)
		}
		b.WriteString(v)
	}
	return b.String()
}

// urlEscape escapes a value for any part of a URL after the host: a path
// segment or a query value.
func urlEscape(v string) string {
	return strings.ReplaceAll(url.QueryEscape(v), "+", "%20")
}

// jsonEscape escapes a value for the inside of a JSON string.
func jsonEscape(v string) string {
	b, _ := json.Marshal(v)
	return string(b[1 : len(b)-1])
}

// validVarName: [A-Za-z_][A-Za-z0-9_]{0,63}.
func validVarName(s string) bool {
	if s == "" || len(s) > MaxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// validID: 1-64 of [A-Za-z0-9_-], the shape of store ids and names.
func validID(s string) bool {
	if s == "" || len(s) > MaxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// clip shortens s for an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
