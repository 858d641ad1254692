package ivr

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseStrict(t *testing.T) {
	cases := []struct {
		name        string
		doc         string
		node, field string
		want        error
	}{
		{"unknown flow field", `{"language":"zh","start":"a","colour":"red","nodes":{"a":{"type":"hangup"}}}`, "", "colour", ErrUnknownField},
		{"unknown node field", `{"language":"zh","start":"a","nodes":{"a":{"type":"hangup","cause":"16"}}}`, "a", "cause", ErrUnknownField},
		{"unknown prompt field", `{"language":"zh","start":"a","nodes":{"a":{"type":"play","prompt":[{"text":"x"},{"txt":"hi"}],"next":"a"}}}`, "a", "prompt[1].txt", ErrUnknownField},
		{"unknown escape field", `{"language":"zh","start":"a","escape":{"key":"0","tagret":"a"},"nodes":{"a":{"type":"hangup"}}}`, "", "escape.tagret", ErrUnknownField},
		{"unknown skill field", `{"language":"zh","start":"a","nodes":{"a":{"type":"queue","queue":"q","skills":[{"skill":"zh","level":2}]}}}`, "a", "skills[0].level", ErrUnknownField},
		{"field of another node type", `{"language":"zh","start":"a","nodes":{"a":{"type":"hangup","next":"a"}}}`, "a", "next", ErrUnknownField},
		{"case differs", `{"language":"zh","start":"a","nodes":{"a":{"type":"goto","Target":"a"}}}`, "a", "Target", ErrUnknownField},
		{"unknown type", `{"language":"zh","start":"a","nodes":{"a":{"type":"dance"}}}`, "a", "type", ErrUnknownNodeType},
		{"missing type", `{"language":"zh","start":"a","nodes":{"a":{"target":"a"}}}`, "a", "type", ErrUnknownNodeType},
		{"null node", `{"language":"zh","start":"a","nodes":{"a":null}}`, "a", "type", ErrUnknownNodeType},
		{"type not a string", `{"language":"zh","start":"a","nodes":{"a":{"type":7}}}`, "a", "type", ErrSyntax},
		{"wrong JSON type", `{"language":"zh","start":"a","nodes":{"a":{"type":"gather","max_digits":"4"}}}`, "a", "max_digits", ErrSyntax},
		{"wrong flow JSON type", `{"language":"zh","start":"a","version":"1","nodes":{}}`, "", "version", ErrSyntax},
		{"trailing data", `{"language":"zh","start":"a","nodes":{"a":{"type":"hangup"}}} {}`, "", "", ErrSyntax},
		{"not an object", `["zh"]`, "", "", ErrSyntax},
		{"not JSON", `{"language":`, "", "", ErrSyntax},
		{"too large", `{"name":"` + strings.Repeat("x", MaxFlowBytes) + `"}`, "", "", ErrSyntax},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse([]byte(tc.doc))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse = %v, %v; want a *ValidationError", f, err)
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrInvalidFlow) {
				t.Errorf("%v does not wrap %v and ErrInvalidFlow", err, tc.want)
			}
			if ve.Node != tc.node || ve.Field != tc.field {
				t.Errorf("names node %q field %q, want %q %q (%v)", ve.Node, ve.Field, tc.node, tc.field, err)
			}
			if tc.field != "" && !strings.Contains(err.Error(), tc.field) {
				t.Errorf("message %q does not name %q", err, tc.field)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	for name, f := range map[string]*Flow{"demo": DemoFlow(), "base": baseFlow(), "menu": menuFlow()} {
		t.Run(name, func(t *testing.T) {
			b, err := f.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			g, err := Parse(b)
			if err != nil {
				t.Fatalf("Parse(%s): %v", b, err)
			}
			if !reflect.DeepEqual(f, g) {
				t.Errorf("round trip differs:\n%+v\n%+v", f, g)
			}
			if !bytes.HasPrefix(b, []byte(`{`)) || !bytes.Contains(b, []byte(`{"type":"queue","queue":`)) {
				t.Errorf("encoding %s", b)
			}
		})
	}
}

// TestTestdataFlows: good_* files parse and validate; bad_* files fail with
// the sentinel their name says.
func TestTestdataFlows(t *testing.T) {
	want := map[string]error{
		"bad_unknown_field": ErrUnknownField, "bad_node_unknown_field": ErrUnknownField,
		"bad_nested_unknown_field": ErrUnknownField, "bad_field_case": ErrUnknownField,
		"bad_unknown_type": ErrUnknownNodeType, "bad_missing_type": ErrUnknownNodeType, "bad_null_node": ErrUnknownNodeType,
		"bad_wrong_json_type": ErrSyntax, "bad_trailing": ErrSyntax, "bad_not_object": ErrSyntax,
		"bad_dangling": ErrDanglingTarget, "bad_unreachable": ErrUnreachable, "bad_busy_loop": ErrBusyLoop,
		"bad_regex": ErrBadRegex, "bad_url": ErrBadURL, "bad_empty_choices": ErrEmptyChoices,
		"bad_digit": ErrBadDigit, "bad_language": ErrInvalidValue,
	}
	files, err := filepath.Glob("testdata/flows/*.json")
	if err != nil || len(files) < len(want)+2 {
		t.Fatalf("%d files, %v", len(files), err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse(data)
			if err == nil {
				err = Validate(f)
			}
			if strings.HasPrefix(name, "good_") {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			w, ok := want[name]
			if !ok {
				t.Fatalf("no expectation for %s", name)
			}
			if !errors.Is(err, w) {
				t.Errorf("err = %v, want %v", err, w)
			}
		})
	}
}

// TestEmbeddedInRequest: a Flow inside another document (an API request)
// decodes as strictly, and the error stays a *ValidationError.
func TestEmbeddedInRequest(t *testing.T) {
	var req struct {
		Flow Flow `json:"flow"`
	}
	err := json.Unmarshal([]byte(`{"flow":{"language":"zh","start":"a","nodes":{"a":{"type":"hangup","x":1}}}}`), &req)
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Node != "a" || ve.Field != "x" || !errors.Is(err, ErrUnknownField) {
		t.Fatalf("err = %v", err)
	}
	if err := json.Unmarshal([]byte(`{"flow":{"language":"zh","start":"a","nodes":{"a":{"type":"hangup"}}}}`), &req); err != nil {
		t.Fatal(err)
	}
	if err := Validate(&req.Flow); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(req)
	if err != nil || string(b) != `{"flow":{"language":"zh","start":"a","nodes":{"a":{"type":"hangup"}}}}` {
		t.Errorf("marshal: %s %v", b, err)
	}
}
