package ivr

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ValidationError says what is wrong with a flow and where. It wraps one of
// the validation sentinels (ErrUnknownField, ErrDanglingTarget, ...) and
// ErrInvalidFlow.
type ValidationError struct {
	// Node is the id of the offending node; empty for the flow's own fields.
	Node string
	// Field is the JSON path of the offending field inside the node (or
	// the flow), e.g. "choices.1" or "prompt[0].text"; may be empty.
	Field string
	// Message says what is wrong, for a person.
	Message string
	// Err is the sentinel.
	Err error
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("ivr: ")
	if e.Node != "" {
		fmt.Fprintf(&b, "node %q: ", e.Node)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, "%s: ", e.Field)
	}
	b.WriteString(e.Message)
	return b.String()
}

// Unwrap returns the sentinel and ErrInvalidFlow.
func (e *ValidationError) Unwrap() []error { return []error{e.Err, ErrInvalidFlow} }

func verr(node, field string, err error, format string, args ...any) *ValidationError {
	return &ValidationError{Node: node, Field: field, Err: err, Message: fmt.Sprintf(format, args...)}
}

// compiled holds what validation compiled and execution reuses.
type compiled struct {
	// patterns are gathers' anchored patterns, by node id.
	patterns map[string]*regexp.Regexp
	// regexes are conditions' regex operands, by node id.
	regexes map[string]*regexp.Regexp
}

// Validate checks a flow before it is saved (and Run checks it again). It
// returns nil or a *ValidationError naming the node and field of the first
// problem found; flow fields are checked first, then nodes in id order,
// then the graph:
//
//   - every node has a known type and valid fields within the bounds in
//     this package's constants (ErrUnknownNodeType, ErrInvalidValue,
//     ErrTooLong, ErrTooManyNodes);
//   - every target names an existing node, and required targets are set
//     (ErrMissingTarget, ErrDanglingTarget);
//   - DTMF keys are single keys of 0-9, * and #; a menu has choices and
//     none of them is the escape key (ErrBadDigit, ErrEmptyChoices);
//   - patterns compile (ErrBadRegex); templates are well formed
//     (ErrBadTemplate); URL templates are absolute http(s) URLs whose
//     placeholders come after the host (ErrBadURL);
//   - every node is reachable from Start (the escape target counts as
//     reachable from any menu or gather) (ErrUnreachable);
//   - every cycle of the graph passes through a menu or a gather, the only
//     nodes that wait for the caller: a cycle without one would run without
//     end (ErrBusyLoop).
func Validate(f *Flow) error {
	_, err := compile(f)
	return err
}

func compile(f *Flow) (*compiled, error) {
	if f == nil {
		return nil, verr("", "", ErrInvalidValue, "no flow")
	}
	c := &compiled{patterns: map[string]*regexp.Regexp{}, regexes: map[string]*regexp.Regexp{}}
	if f.ID != "" && !validID(f.ID) {
		return nil, verr("", "id", ErrInvalidValue, "must be 1-%d of [A-Za-z0-9_-]", MaxIDLen)
	}
	if err := checkText("", "name", f.Name, MaxNameLen); err != nil {
		return nil, err
	}
	if f.Version < 0 {
		return nil, verr("", "version", ErrInvalidValue, "must not be negative")
	}
	if f.Language != LangZH && f.Language != LangEN {
		return nil, verr("", "language", ErrInvalidValue, "must be %q or %q", LangZH, LangEN)
	}
	if len(f.Nodes) == 0 {
		return nil, verr("", "nodes", ErrInvalidValue, "a flow needs nodes")
	}
	if len(f.Nodes) > MaxNodes {
		return nil, verr("", "nodes", ErrTooManyNodes, "%d nodes, at most %d", len(f.Nodes), MaxNodes)
	}
	if err := checkTarget(f, "", "start", f.Start, true); err != nil {
		return nil, err
	}
	if e := f.Escape; e != nil {
		if !isKey(e.Key) {
			return nil, verr("", "escape.key", ErrBadDigit, "%q is not one of 0-9, * and #", clip(e.Key, 8))
		}
		if err := checkTarget(f, "", "escape.target", e.Target, true); err != nil {
			return nil, err
		}
	}
	ids := sortedKeys(f.Nodes)
	for _, id := range ids {
		if !validID(id) {
			return nil, verr(clip(id, MaxIDLen), "", ErrInvalidValue, "node id must be 1-%d of [A-Za-z0-9_-]", MaxIDLen)
		}
		n := f.Nodes[id]
		if n == nil || isNilNode(n) {
			return nil, verr(id, "type", ErrUnknownNodeType, "node is null")
		}
		if err := checkNode(f, c, id, n); err != nil {
			return nil, err
		}
		for _, e := range n.edges() {
			if err := checkTarget(f, id, e.field, e.target, e.required); err != nil {
				return nil, err
			}
		}
	}
	if err := checkReachable(f, ids); err != nil {
		return nil, err
	}
	if err := checkBusyLoops(f, ids); err != nil {
		return nil, err
	}
	return c, nil
}

func isNilNode(n Node) bool {
	switch v := n.(type) {
	case *Play:
		return v == nil
	case *Menu:
		return v == nil
	case *Gather:
		return v == nil
	case *HTTP:
		return v == nil
	case *Condition:
		return v == nil
	case *Set:
		return v == nil
	case *Queue:
		return v == nil
	case *Transfer:
		return v == nil
	case *Voicemail:
		return v == nil
	case *Hangup:
		return v == nil
	case *Goto:
		return v == nil
	}
	return false
}

func checkTarget(f *Flow, node, field, target string, required bool) error {
	if target == "" {
		if required {
			return verr(node, field, ErrMissingTarget, "a target node is required")
		}
		return nil
	}
	if _, ok := f.Nodes[target]; !ok {
		return verr(node, field, ErrDanglingTarget, "names no node: %q", clip(target, MaxIDLen))
	}
	return nil
}

func checkNode(f *Flow, c *compiled, id string, n Node) error {
	switch n := n.(type) {
	case *Play:
		if err := checkText(id, "note", n.Note, MaxTextLen); err != nil {
			return err
		}
		return checkPrompts(id, "prompt", n.Prompt, true)
	case *Menu:
		if err := checkText(id, "note", n.Note, MaxTextLen); err != nil {
			return err
		}
		if err := checkInput(id, &n.Input, true); err != nil {
			return err
		}
		if len(n.Choices) == 0 {
			return verr(id, "choices", ErrEmptyChoices, "a menu needs at least one choice")
		}
		for _, k := range sortedKeys(n.Choices) {
			if !isKey(k) {
				return verr(id, "choices."+clip(k, 8), ErrBadDigit, "%q is not one of 0-9, * and #", clip(k, 8))
			}
			if f.Escape != nil && k == f.Escape.Key {
				return verr(id, "choices."+k, ErrBadDigit, "key %s is the flow's escape key", k)
			}
		}
	case *Gather:
		if err := checkText(id, "note", n.Note, MaxTextLen); err != nil {
			return err
		}
		if err := checkInput(id, &n.Input, false); err != nil {
			return err
		}
		if err := checkAssignable(id, "var", n.Var); err != nil {
			return err
		}
		if n.MaxDigits < 1 || n.MaxDigits > MaxDigits {
			return verr(id, "max_digits", ErrInvalidValue, "must be 1 to %d", MaxDigits)
		}
		if n.MinDigits < 0 || n.MinDigits > n.MaxDigits {
			return verr(id, "min_digits", ErrInvalidValue, "must be 0 (meaning 1) to max_digits")
		}
		if n.Terminator != "" && n.Terminator != "#" && n.Terminator != "*" {
			return verr(id, "terminator", ErrBadDigit, "must be empty, # or *")
		}
		if n.Terminator != "" && f.Escape != nil && n.Terminator == f.Escape.Key {
			return verr(id, "terminator", ErrBadDigit, "key %s is the flow's escape key", n.Terminator)
		}
		if n.InterDigitTimeoutMS < 0 || n.InterDigitTimeoutMS > MaxInputMS {
			return verr(id, "inter_digit_timeout_ms", ErrInvalidValue, "must be 0 (default) to %d", MaxInputMS)
		}
		if n.Pattern != "" {
			re, err := compileRegex(id, "pattern", n.Pattern, true)
			if err != nil {
				return err
			}
			c.patterns[id] = re
		}
	case *HTTP:
		return checkHTTP(id, n)
	case *Condition:
		return checkCondition(c, id, n)
	case *Set:
		if err := checkText(id, "note", n.Note, MaxTextLen); err != nil {
			return err
		}
		if len(n.Vars) == 0 {
			return verr(id, "vars", ErrInvalidValue, "a set node needs variables")
		}
		if len(n.Vars) > MaxMappings {
			return verr(id, "vars", ErrTooLong, "%d variables, at most %d", len(n.Vars), MaxMappings)
		}
		for _, k := range sortedKeys(n.Vars) {
			if err := checkAssignable(id, "vars."+clip(k, MaxIDLen), k); err != nil {
				return err
			}
			if err := checkTemplate(id, "vars."+k, n.Vars[k], MaxTextLen); err != nil {
				return err
			}
		}
	case *Queue:
		if err := checkText(id, "note", n.Note, MaxTextLen); err != nil {
			return err
		}
		if !validID(n.Queue) {
			return verr(id, "queue", ErrInvalidValue, "must be a queue name, 1-%d of [A-Za-z0-9_-]", MaxIDLen)
		}
		if n.Priority < 0 || n.Priority > MaxPriority {
			return verr(id, "priority", ErrInvalidValue, "must be 0 to %d", MaxPriority)
		}
		if len(n.Skills) > MaxSkills {
			return verr(id, "skills", ErrTooLong, "%d skills, at most %d", len(n.Skills), MaxSkills)
		}
		for i, s := range n.Skills {
			fld := "skills[" + strconv.Itoa(i) + "]"
			if !validID(s.Skill) {
				return verr(id, fld+".skill", ErrInvalidValue, "must be a skill name")
			}
			if s.MinLevel < 0 || s.MinLevel > 100 {
				return verr(id, fld+".min_level", ErrInvalidValue, "must be 0 to 100")
			}
		}
	case *Transfer:
		if err := checkText(id, "note", n.Note, MaxTextLen); err != nil {
			return err
		}
		switch {
		case (n.Extension == "") == (n.Number == ""):
			return verr(id, "extension", ErrInvalidValue, "exactly one of extension and number is required")
		case n.Extension != "" && (len(n.Extension) < 2 || len(n.Extension) > 8 || !allDigits(n.Extension)):
			return verr(id, "extension", ErrInvalidValue, "must be 2 to 8 digits")
		case n.Number != "":
			d := strings.TrimPrefix(n.Number, "+")
			if len(d) < 1 || len(d) > 32 || !allDigits(d) {
				return verr(id, "number", ErrInvalidValue, "must be digits with an optional leading +, at most 32")
			}
		}
	case *Voicemail:
		if err := checkText(id, "note", n.Note, MaxTextLen); err != nil {
			return err
		}
		if !validID(n.Box) {
			return verr(id, "box", ErrInvalidValue, "must be a box name, 1-%d of [A-Za-z0-9_-]", MaxIDLen)
		}
	case *Hangup:
		return checkText(id, "note", n.Note, MaxTextLen)
	case *Goto:
		return checkText(id, "note", n.Note, MaxTextLen)
	default:
		return verr(id, "type", ErrUnknownNodeType, "%T", n)
	}
	return nil
}

func checkInput(id string, in *Input, promptRequired bool) error {
	if err := checkPrompts(id, "prompt", in.Prompt, promptRequired); err != nil {
		return err
	}
	if err := checkPrompts(id, "invalid_prompt", in.InvalidPrompt, false); err != nil {
		return err
	}
	if err := checkPrompts(id, "timeout_prompt", in.TimeoutPrompt, false); err != nil {
		return err
	}
	if in.TimeoutMS < 0 || in.TimeoutMS > MaxInputMS {
		return verr(id, "timeout_ms", ErrInvalidValue, "must be 0 (default) to %d", MaxInputMS)
	}
	if in.Retries < 0 || in.Retries > MaxRetries {
		return verr(id, "retries", ErrInvalidValue, "must be 0 to %d", MaxRetries)
	}
	return nil
}

func checkHTTP(id string, n *HTTP) error {
	if err := checkText(id, "note", n.Note, MaxTextLen); err != nil {
		return err
	}
	if n.Method != "GET" && n.Method != "POST" {
		return verr(id, "method", ErrInvalidValue, "must be GET or POST")
	}
	if err := checkURLTemplate(id, n.URL); err != nil {
		return err
	}
	if n.Body != "" {
		if n.Method != "POST" {
			return verr(id, "body", ErrInvalidValue, "only a POST has a body")
		}
		if err := checkTemplate(id, "body", n.Body, MaxTextLen); err != nil {
			return err
		}
	}
	if n.TimeoutMS < 0 || n.TimeoutMS > MaxHTTPMS {
		return verr(id, "timeout_ms", ErrInvalidValue, "must be 0 (default) to %d", MaxHTTPMS)
	}
	if len(n.Result) > MaxMappings {
		return verr(id, "result", ErrTooLong, "%d mappings, at most %d", len(n.Result), MaxMappings)
	}
	for _, k := range sortedKeys(n.Result) {
		if err := checkAssignable(id, "result."+clip(k, MaxIDLen), k); err != nil {
			return err
		}
		p := n.Result[k]
		if p == "" || len(p) > MaxPathLen || slices.Contains(strings.Split(p, "."), "") || !utf8.ValidString(p) {
			return verr(id, "result."+k, ErrInvalidValue, "must be a path of keys and indexes separated by dots, at most %d bytes", MaxPathLen)
		}
	}
	return nil
}

// checkURLTemplate: a template that, whatever the variables, is an absolute
// http(s) URL without credentials whose host is fixed (placeholders after it).
func checkURLTemplate(id, u string) error {
	if u == "" {
		return verr(id, "url", ErrBadURL, "a URL is required")
	}
	if len(u) > MaxURLLen {
		return verr(id, "url", ErrTooLong, "%d bytes, at most %d", len(u), MaxURLLen)
	}
	parts, msg := parseTemplate(u)
	if msg != "" {
		return verr(id, "url", ErrBadURL, "%s", msg)
	}
	fill := func(v string) string {
		var b strings.Builder
		for _, p := range parts {
			if p.name == "" {
				b.WriteString(p.lit)
			} else {
				b.WriteString(v)
			}
		}
		return b.String()
	}
	a, errA := url.Parse(fill("a"))
	b, errB := url.Parse(fill("b"))
	switch {
	case errA != nil || errB != nil:
		return verr(id, "url", ErrBadURL, "not a URL")
	case a.Scheme != "http" && a.Scheme != "https":
		return verr(id, "url", ErrBadURL, "must be an http or https URL")
	case a.Host == "" || a.Opaque != "":
		return verr(id, "url", ErrBadURL, "must name a host")
	case a.User != nil:
		return verr(id, "url", ErrBadURL, "must not hold credentials")
	case a.Host != b.Host || a.Scheme != b.Scheme:
		return verr(id, "url", ErrBadURL, "placeholders must come after the host")
	case strings.ContainsAny(u, " \t\r\n"):
		return verr(id, "url", ErrBadURL, "must not contain white space")
	}
	return nil
}

func checkCondition(c *compiled, id string, n *Condition) error {
	if err := checkText(id, "note", n.Note, MaxTextLen); err != nil {
		return err
	}
	kinds := 0
	for _, s := range []string{n.Schedule, n.List, n.Var} {
		if s != "" {
			kinds++
		}
	}
	if kinds != 1 {
		return verr(id, "", ErrInvalidValue, "a condition tests exactly one of schedule, list and var")
	}
	// Fields that belong to another test must be empty, so a typo cannot
	// pass unnoticed.
	only := func(test string, fields map[string]string) error {
		for _, k := range sortedKeys(fields) {
			if fields[k] != "" {
				return verr(id, k, ErrInvalidValue, "does not apply to a %s test", test)
			}
		}
		return nil
	}
	switch {
	case n.Schedule != "":
		if !validID(n.Schedule) {
			return verr(id, "schedule", ErrInvalidValue, "must be a schedule name")
		}
		return only("schedule", map[string]string{"then": n.Then, "else": n.Else, "number": n.Number, "op": string(n.Op), "value": n.Value})
	case n.List != "":
		if !validID(n.List) {
			return verr(id, "list", ErrInvalidValue, "must be a list name")
		}
		if err := checkTemplate(id, "number", n.Number, MaxTextLen); err != nil {
			return err
		}
		return only("list", map[string]string{"open": n.Open, "closed": n.Closed, "holiday": n.Holiday, "op": string(n.Op), "value": n.Value})
	}
	if !validVarName(n.Var) {
		return verr(id, "var", ErrInvalidValue, "must be a variable name")
	}
	if err := only("var", map[string]string{"open": n.Open, "closed": n.Closed, "holiday": n.Holiday, "number": n.Number}); err != nil {
		return err
	}
	switch n.Op {
	case OpRegex:
		re, err := compileRegex(id, "value", n.Value, false)
		if err != nil {
			return err
		}
		c.regexes[id] = re
		return nil
	case OpEq, OpNe, OpPrefix:
	case OpLt, OpLe, OpGt, OpGe:
		if !strings.Contains(n.Value, "${") {
			if _, err := strconv.ParseFloat(strings.TrimSpace(n.Value), 64); err != nil {
				return verr(id, "value", ErrInvalidValue, "%s compares numbers: %q is not one", n.Op, clip(n.Value, 40))
			}
		}
	default:
		return verr(id, "op", ErrInvalidValue, "must be one of eq, ne, prefix, regex, lt, le, gt, ge")
	}
	return checkTemplate(id, "value", n.Value, MaxTextLen)
}

func compileRegex(id, field, p string, anchored bool) (*regexp.Regexp, error) {
	if len(p) > MaxPatternLen {
		return nil, verr(id, field, ErrBadRegex, "%d bytes, at most %d", len(p), MaxPatternLen)
	}
	if p == "" {
		return nil, verr(id, field, ErrBadRegex, "empty pattern")
	}
	expr := p
	if anchored {
		expr = "^(?:" + p + ")$"
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, verr(id, field, ErrBadRegex, "%v", err)
	}
	return re, nil
}

func checkPrompts(id, field string, ps []Prompt, required bool) error {
	if required && len(ps) == 0 {
		return verr(id, field, ErrInvalidValue, "at least one prompt is required")
	}
	if len(ps) > MaxPrompts {
		return verr(id, field, ErrTooLong, "%d prompts, at most %d", len(ps), MaxPrompts)
	}
	for i, p := range ps {
		fld := field + "[" + strconv.Itoa(i) + "]"
		if p.File == "" && p.Text == "" && p.Tone == "" {
			return verr(id, fld, ErrInvalidValue, "a prompt needs a file, a text or a tone")
		}
		if p.File != "" && !validFile(p.File) {
			return verr(id, fld+".file", ErrInvalidValue, "must be a clean relative path without \"..\", at most 256 bytes")
		}
		if err := checkTemplate(id, fld+".text", p.Text, MaxTextLen); err != nil {
			return err
		}
		if p.Voice != "" && p.Voice != LangZH && p.Voice != LangEN {
			return verr(id, fld+".voice", ErrInvalidValue, "must be %q or %q", LangZH, LangEN)
		}
		switch p.Tone {
		case "", ToneBeep, ToneRingback, ToneBusy:
		default:
			return verr(id, fld+".tone", ErrInvalidValue, "must be beep, ringback or busy")
		}
		if p.DurationMS < 0 || p.DurationMS > MaxToneMS {
			return verr(id, fld+".duration_ms", ErrInvalidValue, "must be 0 (default) to %d", MaxToneMS)
		}
		if p.DurationMS != 0 && p.Tone == "" {
			return verr(id, fld+".duration_ms", ErrInvalidValue, "only a tone has a duration")
		}
	}
	return nil
}

func validFile(p string) bool {
	if len(p) > 256 || strings.HasPrefix(p, "/") || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") || !utf8.ValidString(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < ' ' || p[i] == 0x7f || p[i] == '\\' {
			return false
		}
	}
	return true
}

// checkText: valid UTF-8, at most max bytes, no control characters but
// white space.
func checkText(node, field, s string, max int) error {
	if len(s) > max {
		return verr(node, field, ErrTooLong, "%d bytes, at most %d", len(s), max)
	}
	if !utf8.ValidString(s) {
		return verr(node, field, ErrInvalidValue, "must be UTF-8")
	}
	for _, r := range s {
		if r < ' ' && r != '\n' && r != '\t' && r != '\r' || r == 0x7f {
			return verr(node, field, ErrInvalidValue, "must not contain control characters")
		}
	}
	return nil
}

func checkTemplate(node, field, s string, max int) error {
	if err := checkText(node, field, s, max); err != nil {
		return err
	}
	if _, msg := parseTemplate(s); msg != "" {
		return verr(node, field, ErrBadTemplate, "%s", msg)
	}
	return nil
}

func checkAssignable(node, field, name string) error {
	if !validVarName(name) {
		return verr(node, field, ErrInvalidValue, "must be a variable name: [A-Za-z_][A-Za-z0-9_]*, at most %d bytes", MaxIDLen)
	}
	if name == VarCaller || name == VarCalled {
		return verr(node, field, ErrInvalidValue, "%s is read only", name)
	}
	return nil
}

// isKey: one DTMF key of 0-9, * and # (A-D are not on phones' keypads).
func isKey(k string) bool {
	return len(k) == 1 && strings.Contains("0123456789*#", k)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// waits reports whether a node collects DTMF, the only way a flow waits for
// the caller.
func waits(n Node) bool {
	switch n.(type) {
	case *Menu, *Gather:
		return true
	}
	return false
}

func checkReachable(f *Flow, ids []string) error {
	seen := make(map[string]bool, len(f.Nodes))
	stack := []string{f.Start}
	seen[f.Start] = true
	push := func(t string) {
		if t != "" && !seen[t] {
			seen[t] = true
			stack = append(stack, t)
		}
	}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := f.Nodes[id]
		for _, e := range n.edges() {
			push(e.target)
		}
		if f.Escape != nil && waits(n) {
			push(f.Escape.Target)
		}
	}
	for _, id := range ids {
		if !seen[id] {
			return verr(id, "", ErrUnreachable, "no path from the start node %q leads here", f.Start)
		}
	}
	return nil
}

// checkBusyLoops finds a cycle among the nodes that do not wait for input
// (Tarjan's strongly connected components on that subgraph): a component
// of two or more nodes, or a node that targets itself, is a loop that runs
// without the caller. The error names the component's first node by id.
func checkBusyLoops(f *Flow, ids []string) error {
	index := map[string]int{}
	low := map[string]int{}
	onStack := map[string]bool{}
	var stack []string
	next := 0
	var bad []string
	var strong func(v string)
	strong = func(v string) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		self := false
		for _, e := range f.Nodes[v].edges() {
			w := e.target
			if w == "" || waits(f.Nodes[w]) {
				continue
			}
			if w == v {
				self = true
			}
			if _, ok := index[w]; !ok {
				strong(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var comp []string
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp = append(comp, w)
				if w == v {
					break
				}
			}
			if (len(comp) > 1 || self) && bad == nil {
				slices.Sort(comp)
				bad = comp
			}
		}
	}
	for _, id := range ids {
		if _, ok := index[id]; !ok && !waits(f.Nodes[id]) {
			strong(id)
		}
	}
	if bad != nil {
		return verr(bad[0], "", ErrBusyLoop, "the nodes %s form a loop that never waits for the caller: put a menu or a gather on it", strings.Join(bad, ", "))
	}
	return nil
}
