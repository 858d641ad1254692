package ivr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Parse decodes a flow document strictly: it refuses unknown fields (naming
// them, field names are case sensitive), unknown node types, wrong JSON
// types, trailing data and documents over MaxFlowBytes. It does not check
// the graph: call Validate before storing or running the flow.
//
// Errors are *ValidationError wrapping ErrInvalidFlow and ErrSyntax,
// ErrUnknownField or ErrUnknownNodeType.
func Parse(data []byte) (*Flow, error) {
	if len(data) > MaxFlowBytes {
		return nil, verr("", "", ErrSyntax, "document of %d bytes exceeds %d", len(data), MaxFlowBytes)
	}
	var f Flow
	if err := f.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return &f, nil
}

// flowJSON is Flow's JSON shape with nodes left raw.
type flowJSON struct {
	ID       string                     `json:"id,omitempty"`
	Name     string                     `json:"name,omitempty"`
	Version  int                        `json:"version,omitempty"`
	Language string                     `json:"language"`
	Start    string                     `json:"start"`
	Escape   *Escape                    `json:"escape,omitempty"`
	Nodes    map[string]json.RawMessage `json:"nodes"`
}

// UnmarshalJSON decodes f strictly, as Parse does.
func (f *Flow) UnmarshalJSON(data []byte) error {
	var fj flowJSON
	if err := strictDecode(data, "", reflect.TypeFor[flowJSON](), &fj); err != nil {
		return err
	}
	nodes := make(map[string]Node, len(fj.Nodes))
	for _, id := range sortedKeys(fj.Nodes) {
		n, err := decodeNode(id, fj.Nodes[id])
		if err != nil {
			return err
		}
		nodes[id] = n
	}
	*f = Flow{ID: fj.ID, Name: fj.Name, Version: fj.Version, Language: fj.Language,
		Start: fj.Start, Escape: fj.Escape, Nodes: nodes}
	if fj.Nodes == nil {
		f.Nodes = nil
	}
	return nil
}

// MarshalJSON encodes f with each node's "type" first.
func (f Flow) MarshalJSON() ([]byte, error) {
	fj := flowJSON{ID: f.ID, Name: f.Name, Version: f.Version, Language: f.Language,
		Start: f.Start, Escape: f.Escape}
	if f.Nodes != nil {
		fj.Nodes = make(map[string]json.RawMessage, len(f.Nodes))
	}
	for id, n := range f.Nodes {
		b, err := marshalNode(n)
		if err != nil {
			return nil, fmt.Errorf("node %q: %w", id, err)
		}
		fj.Nodes[id] = b
	}
	return json.Marshal(fj)
}

func marshalNode(n Node) ([]byte, error) {
	if n == nil || reflect.ValueOf(n).IsNil() {
		return nil, errors.New("nil node")
	}
	b, err := json.Marshal(n)
	if err != nil {
		return nil, err
	}
	t, _ := json.Marshal(string(n.Type()))
	out := append([]byte(`{"type":`), t...)
	if len(b) > 2 {
		out = append(out, ',')
	}
	return append(out, b[1:]...), nil
}

func decodeNode(id string, raw json.RawMessage) (Node, error) {
	var head struct {
		Type *string `json:"type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, syntaxErr(id, err)
	}
	if head.Type == nil {
		return nil, verr(id, "type", ErrUnknownNodeType, "missing")
	}
	n := newNode(NodeType(*head.Type))
	if n == nil {
		return nil, verr(id, "type", ErrUnknownNodeType, "%q", *head.Type)
	}
	if err := strictDecode(raw, id, reflect.TypeOf(n), n, "type"); err != nil {
		return nil, err
	}
	return n, nil
}

// strictDecode checks data's field names against t (exactly, recursively;
// extra names top-level fields allowed besides t's), then decodes it into v
// and refuses trailing data.
func strictDecode(data []byte, node string, t reflect.Type, v any, extra ...string) error {
	if err := checkFields(data, t, node, "", extra); err != nil {
		return err
	}
	// Field names were checked above, exactly; the decoder alone would
	// accept "Prompt" for "prompt" and refuse the node's "type".
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return syntaxErr(node, err)
	}
	if _, err := dec.Token(); err == nil {
		return verr(node, "", ErrSyntax, "trailing data after the object")
	}
	return nil
}

func syntaxErr(node string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return verr(node, te.Field, ErrSyntax, "JSON %s where %s is expected", te.Value, jsonKind(te.Type))
	}
	return verr(node, "", ErrSyntax, "%v", err)
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice:
		return "an array"
	case reflect.Map, reflect.Struct, reflect.Pointer:
		return "an object"
	}
	return t.String()
}

// checkFields walks data along t and refuses any object key that is not a
// field's exact JSON name. Values of the wrong JSON type are left to the
// decoder, which reports them.
func checkFields(data []byte, t reflect.Type, node, path string, extra []string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) != nil {
			return nil
		}
		fields := jsonFields(t)
		for _, k := range sortedKeys(obj) {
			ft, ok := fields[k]
			if !ok {
				if slices.Contains(extra, k) {
					continue
				}
				return verr(node, joinPath(path, k), ErrUnknownField, "unknown field %q", k)
			}
			if err := checkFields(obj[k], ft, node, joinPath(path, k), nil); err != nil {
				return err
			}
		}
	case reflect.Slice:
		var arr []json.RawMessage
		if json.Unmarshal(data, &arr) != nil {
			return nil
		}
		for i, e := range arr {
			if err := checkFields(e, t.Elem(), node, path+"["+strconv.Itoa(i)+"]", nil); err != nil {
				return err
			}
		}
	case reflect.Map:
		if t.Elem() == reflect.TypeFor[json.RawMessage]() {
			return nil
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) != nil {
			return nil
		}
		for _, k := range sortedKeys(obj) {
			if err := checkFields(obj[k], t.Elem(), node, joinPath(path, k), nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonFields maps the JSON names of t's fields (embedded structs
// flattened) to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct {
			for k, v := range jsonFields(sf.Type) {
				m[k] = v
			}
			continue
		}
		if name == "" {
			name = sf.Name
		}
		m[name] = sf.Type
	}
	return m
}

func joinPath(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
