package ivr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"hotline/internal/clock"
)

// MediaKind says what a Media plays.
type MediaKind int

// Media kinds.
const (
	MediaFile MediaKind = iota + 1 // a recorded file
	MediaTTS                       // text to speech
	MediaTone                      // a generated tone
)

// Media is one resolved prompt handed to the Session: a file, a TTS text
// with its voice (templates already substituted), or a named tone.
type Media struct {
	Kind MediaKind
	// File is a path relative to the media directory (MediaFile).
	File string
	// Text and Voice (LangZH or LangEN) are for MediaTTS.
	Text  string
	Voice string
	// Tone is ToneBeep, ToneRingback or ToneBusy (MediaTone), played for
	// Duration.
	Tone     string
	Duration time.Duration
}

// CollectSpec says how a Session collects DTMF.
//
// Collection ends when Max keys were pressed, when Terminator is pressed
// (it is not part of the digits), when FirstDigitTimeout passes with no key
// (counted from the end of the prompts), or when InterDigitTimeout passes
// after a key.
type CollectSpec struct {
	// Max keys to collect (at least 1).
	Max int
	// Min keys the node wants; informational (the executor checks it), a
	// Session may use it to stop early on the terminator only after Min.
	Min int
	// Terminator is "", "#" or "*".
	Terminator string
	// FirstDigitTimeout and InterDigitTimeout are positive.
	FirstDigitTimeout time.Duration
	InterDigitTimeout time.Duration
	// BargeIn: the first key stops the prompts (always true from Run).
	BargeIn bool
}

// Session is what the executor needs from a call; the controller's call
// actor implements it over the media core. Methods are called from Run's
// goroutine only, one at a time.
type Session interface {
	// Play plays prompts one after the other and returns when they are
	// done. It returns ErrHangup (wrapped or not) when the caller hung up,
	// and must return when ctx is done.
	Play(ctx context.Context, prompts []Media) error
	// PlayAndCollect plays prompts (possibly none; the first key stops
	// them when spec.BargeIn) and collects DTMF keys per spec. It returns
	// the keys pressed without the terminator; "" means no key before the
	// timeout.
	// It returns ErrHangup when the caller hung up, and must return when
	// ctx is done.
	PlayAndCollect(ctx context.Context, prompts []Media, spec CollectSpec) (string, error)
}

// ScheduleState is a schedule's state at an instant.
type ScheduleState string

// Schedule states.
const (
	StateOpen    ScheduleState = "open"
	StateClosed  ScheduleState = "closed"
	StateHoliday ScheduleState = "holiday"
)

// Schedules tells the state of named schedules (work hours, holidays).
type Schedules interface {
	// ScheduleState returns the named schedule's state now.
	ScheduleState(ctx context.Context, name string) (ScheduleState, error)
}

// Lists answers list membership (VIP, blacklist, ...).
type Lists interface {
	// InList reports whether number is in the named list.
	InList(ctx context.Context, list, number string) (bool, error)
}

// Lookuper performs an http node's request; ivrhttp.Client is the net/http
// implementation.
type Lookuper interface {
	// Lookup sends method (GET or POST) to url with body (nil for GET) and
	// returns the status and the response body. It must give up after
	// timeout (returning an error that wraps ErrLookupTimeout) and when ctx
	// is done. A non-2xx status is not an error.
	Lookup(ctx context.Context, method, url string, body []byte, timeout time.Duration) (status int, respBody []byte, err error)
}

// Env is what a flow runs against besides the call. Every field is
// optional.
type Env struct {
	// Clock stamps the path (default clock.Real).
	Clock clock.Clock
	// Schedules answers condition nodes on a schedule. Without it, or when
	// it fails, the condition takes its closed branch (and logs).
	Schedules Schedules
	// Lists answers condition nodes on a list. Without it, or when it
	// fails, the number counts as not in the list (and logs).
	Lists Lists
	// HTTP performs http nodes. Without it they take their failure branch.
	HTTP Lookuper
	// Vars are the call's initial variables: at least VarCaller and
	// VarCalled. Run copies them.
	Vars map[string]string
	// StartAt, when set, starts at this node instead of the flow's Start
	// (back to self service from an agent, at a chosen menu).
	StartAt string
	// MaxSteps bounds the nodes one Run executes (default DefaultMaxSteps).
	MaxSteps int
	// Logger receives warnings (a failing schedule, list or lookup); it
	// should carry the call's fields. Default: discard.
	Logger *slog.Logger
}

// End says how a flow ended.
type End string

// Endings.
const (
	EndEnqueue   End = "enqueue"   // a queue node: Result.Enqueue
	EndTransfer  End = "transfer"  // a transfer node: Result.Transfer
	EndVoicemail End = "voicemail" // a voicemail node: Result.Voicemail
	EndHangup    End = "hangup"    // a hangup node: hang the call up
	EndAbandon   End = "abandon"   // the caller hung up (Run returned ErrHangup)
	EndError     End = "error"     // Run returned another error
)

// Result is how a run ended, with the variables and the path taken.
type Result struct {
	// FlowID and Version identify the flow as it ran.
	FlowID  string `json:"flow_id,omitempty"`
	Version int    `json:"version"`
	End     End    `json:"end"`
	// Exactly one of these is set for EndEnqueue, EndTransfer and
	// EndVoicemail.
	Enqueue   *Enqueue     `json:"enqueue,omitempty"`
	Transfer  *TransferTo  `json:"transfer,omitempty"`
	Voicemail *VoicemailTo `json:"voicemail,omitempty"`
	// Vars are the call variables at the end (for the screen pop).
	Vars map[string]string `json:"vars,omitempty"`
	// Path lists the nodes executed, in order, for the CDR's IVR path.
	Path []Step `json:"path"`
}

// Enqueue asks the controller to queue the call.
type Enqueue struct {
	Queue    string     `json:"queue"`
	Priority int        `json:"priority"`
	Skills   []SkillReq `json:"skills,omitempty"`
}

// TransferTo asks the controller to transfer the call to an extension or a
// number (exactly one is set).
type TransferTo struct {
	Extension string `json:"extension,omitempty"`
	Number    string `json:"number,omitempty"`
}

// Endpoint returns the neutral media-core endpoint: "user/<extension>" or
// "tel/<number>".
func (t TransferTo) Endpoint() string {
	if t.Extension != "" {
		return "user/" + t.Extension
	}
	return "tel/" + t.Number
}

// VoicemailTo asks the controller to take a voicemail message into Box.
type VoicemailTo struct {
	Box string `json:"box"`
}

// Step is one node executed.
type Step struct {
	Node string   `json:"node"`
	Type NodeType `json:"type"`
	// At is when the node was entered (Env.Clock).
	At time.Time `json:"at"`
	// Outcome says how the node left: "played", "key 1", "escape",
	// "failure", "ok", "timeout", "error", "status 503", "bad answer",
	// "open", "closed", "holiday", "then", "else", "set", "goto", or the
	// End of a terminal node. Gathered digits are never recorded (they may
	// be a PIN).
	Outcome string `json:"outcome"`
	// Retries counts the menu or gather re-prompts.
	Retries int `json:"retries,omitempty"`
}

// Run executes flow f for one call in the caller's goroutine (the call
// actor) until a terminal node, the caller hanging up, ctx ending, or
// Env.MaxSteps nodes. It validates f first (a *ValidationError if invalid).
//
// It always returns the Result so far, with the path: on a terminal node
// with a nil error; on a hangup with End EndAbandon and an error wrapping
// ErrHangup; otherwise End EndError and the error (ErrTooManySteps,
// ctx.Err(), a Session's failure).
//
// Run only reads f, so one *Flow may run on many calls at once; it must not
// be modified meanwhile. A call keeps the version it started on when the
// controller loads the flow once, when the call arrives, and hands that
// *Flow to Run.
func Run(ctx context.Context, f *Flow, s Session, env Env) (Result, error) {
	var res Result
	if f != nil {
		res.FlowID, res.Version = f.ID, f.Version
	}
	c, err := compile(f)
	if err != nil {
		res.End = EndError
		return res, err
	}
	r := &runner{f: f, c: c, s: s, env: env, vars: make(map[string]string, len(env.Vars)+8)}
	if r.env.Clock == nil {
		r.env.Clock = clock.Real{}
	}
	if r.env.Logger == nil {
		r.env.Logger = slog.New(slog.DiscardHandler)
	}
	if r.env.MaxSteps <= 0 {
		r.env.MaxSteps = DefaultMaxSteps
	}
	for k, v := range env.Vars {
		r.set(k, v)
	}
	cur := f.Start
	if env.StartAt != "" {
		if _, ok := f.Nodes[env.StartAt]; !ok {
			res.End = EndError
			return res, verr(env.StartAt, "", ErrDanglingTarget, "Env.StartAt names no node")
		}
		cur = env.StartAt
	}
	err = r.loop(ctx, cur, &res)
	res.Vars = r.vars
	return res, err
}

// loop executes nodes from cur until the run ends.
func (r *runner) loop(ctx context.Context, cur string, res *Result) error {
	for steps := 0; ; steps++ {
		if steps >= r.env.MaxSteps {
			res.End = EndError
			return fmt.Errorf("%w: %d nodes executed, stopped at %q", ErrTooManySteps, steps, cur)
		}
		if err := ctx.Err(); err != nil {
			res.End = EndError
			return err
		}
		n := r.f.Nodes[cur]
		res.Path = append(res.Path, Step{Node: cur, Type: n.Type(), At: r.env.Clock.Now()})
		st := &res.Path[len(res.Path)-1]
		next, err := r.exec(ctx, cur, n, st, res)
		if err != nil {
			res.End = EndError
			if errors.Is(err, ErrHangup) {
				res.End = EndAbandon
			}
			return err
		}
		if res.End != "" {
			st.Outcome = string(res.End)
			return nil
		}
		cur = next
	}
}

type runner struct {
	f    *Flow
	c    *compiled
	s    Session
	env  Env
	vars map[string]string
}

// set assigns a variable, its value clipped to MaxValueLen bytes.
func (r *runner) set(k, v string) {
	if len(v) > MaxValueLen {
		n := MaxValueLen
		for n > 0 && !isRuneStart(v[n]) {
			n--
		}
		v = v[:n]
	}
	r.vars[k] = v
}

// exec runs one node: it returns the next node, or sets res.End.
func (r *runner) exec(ctx context.Context, id string, n Node, st *Step, res *Result) (string, error) {
	switch n := n.(type) {
	case *Play:
		st.Outcome = "played"
		if m := r.media(n.Prompt); len(m) > 0 {
			if err := r.s.Play(ctx, m); err != nil {
				return "", err
			}
		}
		return n.Next, nil
	case *Menu:
		return r.menu(ctx, n, st)
	case *Gather:
		return r.gather(ctx, id, n, st)
	case *HTTP:
		return r.http(ctx, n, st)
	case *Condition:
		return r.condition(ctx, id, n, st), nil
	case *Set:
		// Values are rendered against the variables before this node, so
		// {"a":"${b}","b":"x"} does not depend on map order.
		vals := make(map[string]string, len(n.Vars))
		for k, v := range n.Vars {
			vals[k] = render(v, r.vars, nil)
		}
		for k, v := range vals {
			r.set(k, v)
		}
		st.Outcome = "set"
		return n.Next, nil
	case *Goto:
		st.Outcome = "goto"
		return n.Target, nil
	case *Queue:
		res.End = EndEnqueue
		res.Enqueue = &Enqueue{Queue: n.Queue, Priority: n.Priority, Skills: append([]SkillReq(nil), n.Skills...)}
	case *Transfer:
		res.End = EndTransfer
		res.Transfer = &TransferTo{Extension: n.Extension, Number: n.Number}
	case *Voicemail:
		res.End = EndVoicemail
		res.Voicemail = &VoicemailTo{Box: n.Box}
	case *Hangup:
		res.End = EndHangup
	}
	return "", nil
}

// maxRenderedText bounds a TTS text after substitution (the media core
// refuses more than 4096 bytes).
const maxRenderedText = 4000

// media resolves prompts: a file wins over text, text over a tone; TTS
// takes the prompt's voice or the flow's language.
func (r *runner) media(ps []Prompt) []Media {
	out := make([]Media, 0, len(ps))
	for _, p := range ps {
		switch {
		case p.File != "":
			out = append(out, Media{Kind: MediaFile, File: p.File})
		case p.Text != "":
			text := render(p.Text, r.vars, nil)
			if len(text) > maxRenderedText {
				text = clip(text, maxRenderedText)
			}
			if strings.TrimSpace(text) == "" {
				continue
			}
			voice := p.Voice
			if voice == "" {
				voice = r.f.Language
			}
			out = append(out, Media{Kind: MediaTTS, Text: text, Voice: voice})
		case p.Tone != "":
			d := time.Duration(p.DurationMS) * time.Millisecond
			if d == 0 {
				d = DefaultToneDuration
			}
			out = append(out, Media{Kind: MediaTone, Tone: p.Tone, Duration: d})
		}
	}
	return out
}

func ms(v int, def time.Duration) time.Duration {
	if v <= 0 {
		return def
	}
	return time.Duration(v) * time.Millisecond
}

// collect runs the prompt/collect/retry loop shared by menus and gathers.
// judge classifies the input: the next node and true, or false for an
// invalid entry. It returns the next node.
func (r *runner) collect(ctx context.Context, in *Input, spec CollectSpec, st *Step,
	judge func(digits string) (next, outcome string, ok bool)) (string, error) {
	prompts := in.Prompt
	for {
		digits, err := r.s.PlayAndCollect(ctx, r.media(prompts), spec)
		if err != nil {
			return "", err
		}
		var retry []Prompt
		if digits == "" {
			retry = in.TimeoutPrompt
		} else if next, outcome, ok := judge(digits); ok {
			st.Outcome = outcome
			return next, nil
		} else {
			retry = in.InvalidPrompt
		}
		if st.Retries >= in.Retries {
			st.Outcome = "failure"
			return in.OnFailure, nil
		}
		st.Retries++
		prompts = append(append([]Prompt(nil), retry...), in.Prompt...)
	}
}

func (r *runner) menu(ctx context.Context, n *Menu, st *Step) (string, error) {
	spec := CollectSpec{Max: 1, Min: 1, FirstDigitTimeout: ms(n.TimeoutMS, DefaultInputTimeout),
		InterDigitTimeout: ms(n.TimeoutMS, DefaultInputTimeout), BargeIn: true}
	return r.collect(ctx, &n.Input, spec, st, func(d string) (string, string, bool) {
		if e := r.f.Escape; e != nil && d == e.Key {
			return e.Target, "escape", true
		}
		if t, ok := n.Choices[d]; ok {
			return t, "key " + d, true
		}
		return "", "", false
	})
}

func (r *runner) gather(ctx context.Context, id string, n *Gather, st *Step) (string, error) {
	minDigits := max(n.MinDigits, 1)
	spec := CollectSpec{Max: n.MaxDigits, Min: minDigits, Terminator: n.Terminator,
		FirstDigitTimeout: ms(n.TimeoutMS, DefaultInputTimeout),
		InterDigitTimeout: ms(n.InterDigitTimeoutMS, DefaultInterDigitTimeout), BargeIn: true}
	re := r.c.patterns[id]
	return r.collect(ctx, &n.Input, spec, st, func(d string) (string, string, bool) {
		if e := r.f.Escape; e != nil && (d == e.Key || (e.Key == "*" || e.Key == "#") && strings.HasPrefix(d, e.Key)) {
			return e.Target, "escape", true
		}
		if len(d) < minDigits || len(d) > n.MaxDigits {
			return "", "", false
		}
		if re != nil {
			if !re.MatchString(d) {
				return "", "", false
			}
		} else if !allDigits(d) {
			return "", "", false
		}
		r.set(n.Var, d)
		return n.Next, "ok", true
	})
}

func (r *runner) http(ctx context.Context, n *HTTP, st *Step) (string, error) {
	log := r.env.Logger.With("node_type", "http")
	if r.env.HTTP == nil {
		st.Outcome = "error"
		log.Warn("ivr: http node without a lookup client")
		return n.OnFailure, nil
	}
	url := render(n.URL, r.vars, urlEscape)
	var body []byte
	if n.Method == "POST" {
		body = []byte(render(n.Body, r.vars, jsonEscape))
	}
	status, resp, err := r.env.HTTP.Lookup(ctx, n.Method, url, body, ms(n.TimeoutMS, DefaultHTTPTimeout))
	if cerr := ctx.Err(); cerr != nil {
		return "", cerr
	}
	switch {
	case err != nil:
		st.Outcome = "error"
		if errors.Is(err, ErrLookupTimeout) || errors.Is(err, context.DeadlineExceeded) {
			st.Outcome = "timeout"
		}
		log.Warn("ivr: lookup failed", "err", err)
		return n.OnFailure, nil
	case status < 200 || status > 299:
		st.Outcome = "status " + strconv.Itoa(status)
		return n.OnFailure, nil
	}
	vals, ok := extract(resp, n.Result)
	if !ok {
		st.Outcome = "bad answer"
		return n.OnFailure, nil
	}
	for k, v := range vals {
		r.set(k, v)
	}
	st.Outcome = "ok"
	return n.Next, nil
}

// extract maps paths of a JSON document to variables; false if the
// document is not JSON or a path is missing or names an object or array.
func extract(doc []byte, paths map[string]string) (map[string]string, bool) {
	if len(paths) == 0 {
		return nil, true
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var root any
	if dec.Decode(&root) != nil {
		return nil, false
	}
	out := make(map[string]string, len(paths))
	for k, p := range paths {
		v := root
		for _, seg := range strings.Split(p, ".") {
			switch cur := v.(type) {
			case map[string]any:
				next, ok := cur[seg]
				if !ok {
					return nil, false
				}
				v = next
			case []any:
				i, err := strconv.Atoi(seg)
				if err != nil || i < 0 || i >= len(cur) {
					return nil, false
				}
				v = cur[i]
			default:
				return nil, false
			}
		}
		switch v := v.(type) {
		case string:
			out[k] = v
		case json.Number:
			out[k] = v.String()
		case bool:
			out[k] = strconv.FormatBool(v)
		case nil:
			out[k] = ""
		default:
			return nil, false
		}
	}
	return out, true
}

func (r *runner) condition(ctx context.Context, id string, n *Condition, st *Step) string {
	log := r.env.Logger.With("node", id)
	switch {
	case n.Schedule != "":
		state := StateClosed
		if r.env.Schedules == nil {
			log.Warn("ivr: no schedules; taking the closed branch", "schedule", n.Schedule)
		} else if s, err := r.env.Schedules.ScheduleState(ctx, n.Schedule); err != nil {
			log.Warn("ivr: schedule state unavailable; taking the closed branch", "schedule", n.Schedule, "err", err)
		} else {
			state = s
		}
		switch state {
		case StateOpen:
			st.Outcome = "open"
			return n.Open
		case StateHoliday:
			st.Outcome = "holiday"
			if n.Holiday != "" {
				return n.Holiday
			}
			return n.Closed
		}
		st.Outcome = "closed"
		return n.Closed
	case n.List != "":
		tmpl := n.Number
		if tmpl == "" {
			tmpl = "${" + VarCaller + "}"
		}
		number := render(tmpl, r.vars, nil)
		in := false
		if r.env.Lists == nil {
			log.Warn("ivr: no lists; the number counts as not listed", "list", n.List)
		} else if ok, err := r.env.Lists.InList(ctx, n.List, number); err != nil {
			log.Warn("ivr: list unavailable; the number counts as not listed", "list", n.List, "err", err)
		} else {
			in = ok
		}
		return r.branch(n, st, in)
	}
	v := r.vars[n.Var]
	var ok bool
	switch n.Op {
	case OpRegex:
		ok = r.c.regexes[id].MatchString(v)
	case OpEq:
		ok = v == render(n.Value, r.vars, nil)
	case OpNe:
		ok = v != render(n.Value, r.vars, nil)
	case OpPrefix:
		ok = strings.HasPrefix(v, render(n.Value, r.vars, nil))
	default:
		a, errA := strconv.ParseFloat(strings.TrimSpace(v), 64)
		b, errB := strconv.ParseFloat(strings.TrimSpace(render(n.Value, r.vars, nil)), 64)
		if errA == nil && errB == nil {
			switch n.Op {
			case OpLt:
				ok = a < b
			case OpLe:
				ok = a <= b
			case OpGt:
				ok = a > b
			case OpGe:
				ok = a >= b
			}
		}
	}
	return r.branch(n, st, ok)
}

func (r *runner) branch(n *Condition, st *Step, ok bool) string {
	if ok {
		st.Outcome = "then"
		return n.Then
	}
	st.Outcome = "else"
	return n.Else
}
