package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"hotline/controller/store"
)

// maxBody bounds a request body; configuration documents are small.
const maxBody = 1 << 20

// maxItems bounds every JSON array in a request, so one body cannot make a
// handler walk millions of references.
const maxItems = 1000

var (
	timeType = reflect.TypeFor[time.Time]()
	metaType = reflect.TypeFor[store.Meta]()
)

// readBody reads the request body, enforcing maxBody. A body declared as
// anything but JSON is refused with 415 (RFC 9110 §15.5.16) before it is
// read; a body without Content-Type is read as JSON.
func readBody(c *gin.Context) ([]byte, error) {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" && !strings.HasSuffix(mt, "+json") {
			return nil, &apiError{Status: http.StatusUnsupportedMediaType, Code: codeUnsupportedMediaType,
				Message: "the body must be JSON (Content-Type: application/json)"}
		}
	}
	data, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &apiError{Status: http.StatusRequestEntityTooLarge, Code: codeTooLarge, Message: "request body exceeds 1 MiB"}
		}
		return nil, &apiError{Status: http.StatusBadRequest, Code: codeInvalidJSON, Message: "could not read the request body"}
	}
	return data, nil
}

// decodeStrict fills dst (a pointer to a struct, pre-filled with defaults)
// from data. It tells apart three client mistakes, each naming where it is:
// malformed JSON (invalid_json), a key the type does not have
// (unknown_field, with its path) and a value of the wrong JSON type
// (invalid_value, with its path, e.g. "skills[1].level"). Keys match
// exactly: encoding/json's case-insensitive matching would let "Name"
// through silently.
func decodeStrict(data []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := parseValue(dec, data, "", 0)
	if err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return &apiError{Status: http.StatusBadRequest, Code: codeInvalidJSON, Message: "malformed JSON: data after the top-level value"}
	}
	if _, ok := v.(map[string]any); !ok {
		return &apiError{Status: http.StatusBadRequest, Code: codeInvalidJSON, Message: "the body must be a JSON object"}
	}
	if err := checkShape(v, reflect.TypeOf(dst).Elem(), ""); err != nil {
		return err
	}
	if err := json.Unmarshal(data, dst); err != nil {
		// Not reached by any input known: the shape check accepts only what
		// encoding/json decodes. Still the client's body, so still a 400.
		return &apiError{Status: http.StatusBadRequest, Code: codeInvalidValue, Message: "value has the wrong type"}
	}
	return nil
}

// maxDepth bounds nesting; no resource is deeper than a handful of levels.
const maxDepth = 32

// parseValue reads one JSON value from dec's token stream into the generic
// form (map[string]any, []any, json.Number, string, bool, nil). Unlike
// Decode into an interface it refuses duplicate object keys, whose
// last-one-wins handling would let a value slip past the checks, and
// bounds the nesting depth. A string (key or value) that is not valid
// UTF-8 is refused naming its path: encoding/json would silently replace
// the bytes with U+FFFD and store something the client never sent.
func parseValue(dec *json.Decoder, data []byte, path string, depth int) (any, error) {
	malformed := func(err error) error {
		return &apiError{Status: http.StatusBadRequest, Code: codeInvalidJSON, Message: "malformed JSON: " + jsonErrText(err)}
	}
	if depth > maxDepth {
		return nil, &apiError{Status: http.StatusBadRequest, Code: codeInvalidJSON, Field: path, Message: "nested too deeply"}
	}
	tok, err := token(dec, data, path)
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		obj := map[string]any{}
		for dec.More() {
			kt, err := token(dec, data, path)
			if err != nil {
				return nil, err
			}
			k, ok := kt.(string)
			if !ok {
				return nil, malformed(errors.New("object key is not a string"))
			}
			if _, dup := obj[k]; dup {
				return nil, &apiError{Status: http.StatusBadRequest, Code: codeInvalidJSON, Field: joinPath(path, k), Message: "duplicate key"}
			}
			v, err := parseValue(dec, data, joinPath(path, k), depth+1)
			if err != nil {
				return nil, err
			}
			obj[k] = v
		}
		if _, err := dec.Token(); err != nil {
			return nil, malformed(err)
		}
		return obj, nil
	case json.Delim('['):
		arr := []any{}
		for dec.More() {
			if len(arr) == maxItems {
				return nil, invalidValue(path, "at most %d items", maxItems)
			}
			v, err := parseValue(dec, data, path+"["+strconv.Itoa(len(arr))+"]", depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, malformed(err)
		}
		return arr, nil
	}
	return tok, nil
}

// token reads the next token; a string whose bytes in data are not valid
// UTF-8 is an error naming path: the field for a value, the enclosing
// object for a key.
func token(dec *json.Decoder, data []byte, path string) (json.Token, error) {
	start := dec.InputOffset()
	tok, err := dec.Token()
	if err != nil {
		return nil, &apiError{Status: http.StatusBadRequest, Code: codeInvalidJSON, Message: "malformed JSON: " + jsonErrText(err)}
	}
	if _, ok := tok.(string); ok {
		end := dec.InputOffset()
		if start >= 0 && end <= int64(len(data)) && start <= end && !utf8.Valid(data[start:end]) {
			return nil, invalidValue(path, "must be valid UTF-8")
		}
	}
	return tok, nil
}

// jsonErrText describes a decoding error without echoing the input.
func jsonErrText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Error() + " at offset " + strconv.FormatInt(se.Offset, 10)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of input"
	}
	return "cannot parse"
}

func joinPath(base, name string) string {
	if base == "" {
		return name
	}
	return base + "." + name
}

// checkShape walks a generic JSON value against Go type t.
func checkShape(v any, t reflect.Type, path string) error {
	if v == nil {
		return nil // null leaves the default in place, as encoding/json does
	}
	if t.Kind() == reflect.Pointer {
		return checkShape(v, t.Elem(), path)
	}
	wrong := func(what string) error { return invalidValue(path, "must be %s", what) }
	switch t.Kind() {
	case reflect.Struct:
		if t == timeType {
			s, ok := v.(string)
			if !ok {
				return wrong("an RFC 3339 time string")
			}
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				return wrong("an RFC 3339 time such as 2026-01-02T15:04:05Z")
			}
			return nil
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return wrong("an object")
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			f, ok := fields[k]
			if !ok {
				return &apiError{Status: http.StatusBadRequest, Code: codeUnknownField, Field: joinPath(path, k), Message: "unknown field"}
			}
			if err := checkShape(obj[k], f.Type, joinPath(path, k)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			return wrong("an array")
		}
		if len(arr) > maxItems {
			return invalidValue(path, "at most %d items", maxItems)
		}
		for i, e := range arr {
			if err := checkShape(e, t.Elem(), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		return nil
	case reflect.String:
		if _, ok := v.(string); !ok {
			return wrong("a string")
		}
		return nil
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return wrong("true or false")
		}
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			return wrong("an integer")
		}
		if _, err := strconv.ParseInt(n.String(), 10, t.Bits()); err != nil {
			return wrong("an integer in range")
		}
		return nil
	default:
		return wrong("absent: this field cannot be set")
	}
}

// jsonField is one JSON key of a struct type.
type jsonField struct {
	Name      string
	Type      reflect.Type
	OmitEmpty bool
	Tag       reflect.StructTag
	ReadOnly  bool
}

// jsonFields lists the JSON keys of struct type t the way encoding/json
// sees them: tagged names, "-" skipped, embedded structs flattened, with
// outer fields shadowing embedded ones. The result maps name to field;
// order holds the names in declaration order.
func jsonFields(t reflect.Type) map[string]jsonField {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]jsonField)
	}
	m := map[string]jsonField{}
	for _, f := range orderedJSONFields(t) {
		m[f.Name] = f
	}
	fieldCache.Store(t, m)
	return m
}

// fieldCache memoises jsonFields per type, as encoding/json caches its own
// field lists: a pure function of the type, so sharing it is safe, and it
// was the largest cost of decoding a body.
var fieldCache sync.Map // reflect.Type -> map[string]jsonField

func orderedJSONFields(t reflect.Type) []jsonField {
	var direct, embedded []jsonField
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct {
			embedded = append(embedded, orderedJSONFields(sf.Type)...)
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		direct = append(direct, jsonField{
			Name: name, Type: sf.Type, OmitEmpty: strings.Contains(opts, "omitempty"), Tag: sf.Tag,
			// The store sets a record's id and timestamps; clients may send
			// them back (a GET body is a valid PUT body) but they are ignored.
			ReadOnly: sf.Tag.Get("openapi") == "readOnly" || (t == metaType && name != "version"),
		})
	}
	seen := map[string]bool{}
	for _, f := range direct {
		seen[f.Name] = true
	}
	out := direct
	for _, f := range embedded {
		if !seen[f.Name] {
			seen[f.Name] = true
			out = append(out, f)
		}
	}
	return out
}
