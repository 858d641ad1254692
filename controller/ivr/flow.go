package ivr

import "time"

// Bounds on a flow, checked by Validate (and MaxFlowBytes by Parse). They are
// the one place where the format's limits live.
const (
	MaxFlowBytes    = 1 << 20 // a flow document
	MaxNodes        = 1000    // nodes in a flow
	MaxIDLen        = 64      // flow and node ids, list, schedule, queue and box names
	MaxNameLen      = 200     // Flow.Name
	MaxTextLen      = 2000    // bytes of a TTS text, a note or a body template
	MaxPrompts      = 20      // prompts in one prompt list
	MaxURLLen       = 2048    // bytes of a URL template
	MaxPatternLen   = 256     // bytes of a regular expression
	MaxPathLen      = 256     // bytes of a JSON result path
	MaxMappings     = 32      // variables in one set node or one http result
	MaxDigits       = 32      // digits one gather collects
	MaxRetries      = 9       // menu and gather retries
	MaxSkills       = 16      // skills on a queue node
	MaxPriority     = 100     // queue node priority (0..MaxPriority)
	MaxValueLen     = 1024    // bytes of a variable value at run time
	MaxToneMS       = 60000   // a tone prompt's duration
	MaxInputMS      = 60000   // menu and gather timeouts
	MaxHTTPMS       = 30000   // http node timeout
	DefaultMaxSteps = 500     // nodes one Run executes at most (Env.MaxSteps)
)

// Defaults applied at run time to fields left zero.
const (
	DefaultInputTimeout      = 5 * time.Second // menu and gather: first key
	DefaultInterDigitTimeout = 3 * time.Second // gather: between keys
	DefaultHTTPTimeout       = 3 * time.Second // http node
	DefaultToneDuration      = time.Second     // a tone prompt without duration_ms
)

// Languages a flow speaks in; a TTS prompt without its own voice uses the
// flow's language as its voice.
const (
	LangZH = "zh"
	LangEN = "en"
)

// Variables every call starts with (read only: set, gather and http nodes
// cannot assign them).
const (
	VarCaller = "caller" // the calling number
	VarCalled = "called" // the dialled number (DID)
)

// Flow is one IVR flow: a graph of named nodes entered at Start. Its JSON
// form is described in the package documentation; decode it with Parse and
// check it with Validate before storing it.
type Flow struct {
	// ID is the flow's id (1-64 of [A-Za-z0-9_-]); may be empty before
	// the store assigns one.
	ID string `json:"id,omitempty"`
	// Name is a human label.
	Name string `json:"name,omitempty"`
	// Version increases on every save; a call keeps the version it started
	// on (Result.Version).
	Version int `json:"version,omitempty"`
	// Language is LangZH or LangEN: the voice of TTS prompts that do not
	// name their own.
	Language string `json:"language"`
	// Start is the id of the first node.
	Start string `json:"start"`
	// Escape, when set, lets the caller reach a person from any menu or
	// gather.
	Escape *Escape `json:"escape,omitempty"`
	// Nodes by id (1-64 of [A-Za-z0-9_-]).
	Nodes map[string]Node `json:"nodes"`
}

// Escape is the key that leaves self service from any menu or gather and
// the node it goes to (typically a queue node).
//
// In a menu, pressing Key goes to Target (Key must not also be a choice).
// In a gather, the input equal to Key goes to Target; when Key is * or #,
// any input that starts with it does too.
type Escape struct {
	Key    string `json:"key"`
	Target string `json:"target"`
}

// NodeType names a kind of node; it is the "type" field of a node's JSON.
type NodeType string

// Node types.
const (
	TypePlay      NodeType = "play"
	TypeMenu      NodeType = "menu"
	TypeGather    NodeType = "gather"
	TypeHTTP      NodeType = "http"
	TypeCondition NodeType = "condition"
	TypeSet       NodeType = "set"
	TypeQueue     NodeType = "queue"
	TypeTransfer  NodeType = "transfer"
	TypeVoicemail NodeType = "voicemail"
	TypeHangup    NodeType = "hangup"
	TypeGoto      NodeType = "goto"
)

// Node is one step of a flow: one of *Play, *Menu, *Gather, *HTTP,
// *Condition, *Set, *Queue, *Transfer, *Voicemail, *Hangup and *Goto. The
// set is closed (the interface has an unexported method).
type Node interface {
	// Type is the node's JSON "type".
	Type() NodeType
	// edges lists the node's targets, each with the JSON field holding it.
	edges() []edge
}

type edge struct {
	field, target string
	required      bool
}

// Prompt is one thing to play. A recorded File wins over Text when both are
// given (the text then documents the recording); Tone plays only when
// neither is given.
type Prompt struct {
	// File is a path relative to the media directory, e.g.
	// "prompts/welcome.wav".
	File string `json:"file,omitempty"`
	// Text is spoken by TTS; ${var} placeholders are replaced by call
	// variables ("您的余额是${balance}元").
	Text string `json:"text,omitempty"`
	// Voice is LangZH or LangEN; empty uses the flow's language.
	Voice string `json:"voice,omitempty"`
	// Tone is "beep", "ringback" or "busy".
	Tone string `json:"tone,omitempty"`
	// DurationMS bounds a tone (default DefaultToneDuration).
	DurationMS int `json:"duration_ms,omitempty"`
}

// Say returns a TTS prompt in the flow's language.
func Say(text string) Prompt { return Prompt{Text: text} }

// SayIn returns a TTS prompt in the given voice (LangZH or LangEN).
func SayIn(voice, text string) Prompt { return Prompt{Text: text, Voice: voice} }

// PlayFile returns a recorded prompt.
func PlayFile(path string) Prompt { return Prompt{File: path} }

// Tone names.
const (
	ToneBeep     = "beep"
	ToneRingback = "ringback"
	ToneBusy     = "busy"
)

// Play plays its prompts, then goes to Next.
type Play struct {
	Note   string   `json:"note,omitempty"`
	Prompt []Prompt `json:"prompt"`
	Next   string   `json:"next"`
}

// Input holds what menus and gathers share: the prompt, how long to wait
// for the first key, and what happens on an invalid entry or no entry.
//
// After an invalid entry or a timeout the node plays InvalidPrompt or
// TimeoutPrompt followed by Prompt and collects again, at most Retries
// times (invalid entries and timeouts counted together); the next failure
// goes to OnFailure.
type Input struct {
	Prompt        []Prompt `json:"prompt,omitempty"`
	TimeoutMS     int      `json:"timeout_ms,omitempty"`
	Retries       int      `json:"retries,omitempty"`
	InvalidPrompt []Prompt `json:"invalid_prompt,omitempty"`
	TimeoutPrompt []Prompt `json:"timeout_prompt,omitempty"`
	OnFailure     string   `json:"on_failure"`
}

// Menu plays its prompt and branches on one DTMF key.
type Menu struct {
	Note string `json:"note,omitempty"`
	Input
	// Choices maps a key (0-9, * or #) to a node.
	Choices map[string]string `json:"choices"`
}

// Gather collects digits into a variable.
//
// Input is complete at MaxDigits keys, at Terminator (not stored) or
// InterDigitTimeoutMS after the last key. It is valid when it has at least
// MinDigits keys, is all digits 0-9 (unless a Pattern is set) and matches
// Pattern in full.
type Gather struct {
	Note string `json:"note,omitempty"`
	Input
	Var                 string `json:"var"`
	MinDigits           int    `json:"min_digits,omitempty"` // default 1
	MaxDigits           int    `json:"max_digits"`
	Terminator          string `json:"terminator,omitempty"` // "", "#" or "*"
	Pattern             string `json:"pattern,omitempty"`
	InterDigitTimeoutMS int    `json:"inter_digit_timeout_ms,omitempty"`
	Next                string `json:"next"`
}

// HTTP looks data up over HTTP (through Env.HTTP) and maps fields of the
// JSON answer into variables.
//
// URL placeholders are URL-escaped and may appear only after the host; Body
// placeholders (POST only) are escaped for a JSON string. Result maps a
// variable to a path in the answer: keys and array indexes separated by dots
// ("data.accounts.0.balance"); strings, numbers and booleans map to text,
// null to "". Success is a 2xx status with every path present; anything else
// (an error status, a timeout, a missing path, an answer that is not JSON)
// goes to OnFailure and sets no variable.
type HTTP struct {
	Note      string            `json:"note,omitempty"`
	Method    string            `json:"method"` // GET or POST
	URL       string            `json:"url"`
	Body      string            `json:"body,omitempty"`
	TimeoutMS int               `json:"timeout_ms,omitempty"`
	Result    map[string]string `json:"result,omitempty"`
	Next      string            `json:"next"`
	OnFailure string            `json:"on_failure"`
}

// CompareOp is a Condition's comparison.
type CompareOp string

// Comparisons. Lt, Le, Gt and Ge compare as numbers; a value that is not a
// number makes the comparison false.
const (
	OpEq     CompareOp = "eq"
	OpNe     CompareOp = "ne"
	OpPrefix CompareOp = "prefix"
	OpRegex  CompareOp = "regex" // Value is a regular expression (not a template)
	OpLt     CompareOp = "lt"
	OpLe     CompareOp = "le"
	OpGt     CompareOp = "gt"
	OpGe     CompareOp = "ge"
)

// Condition branches on exactly one test:
//
//   - Schedule: the named schedule's state now; Open, Closed and optional
//     Holiday (absent: holidays go to Closed).
//   - List: whether Number (a template, default "${caller}") is in the named
//     list; Then or Else.
//   - Var: Var compared with Value (a template) by Op; Then or Else.
type Condition struct {
	Note     string    `json:"note,omitempty"`
	Schedule string    `json:"schedule,omitempty"`
	Open     string    `json:"open,omitempty"`
	Closed   string    `json:"closed,omitempty"`
	Holiday  string    `json:"holiday,omitempty"`
	List     string    `json:"list,omitempty"`
	Number   string    `json:"number,omitempty"`
	Var      string    `json:"var,omitempty"`
	Op       CompareOp `json:"op,omitempty"`
	Value    string    `json:"value,omitempty"`
	Then     string    `json:"then,omitempty"`
	Else     string    `json:"else,omitempty"`
}

// Set assigns variables (values are templates), then goes to Next.
type Set struct {
	Note string            `json:"note,omitempty"`
	Vars map[string]string `json:"vars"`
	Next string            `json:"next"`
}

// Queue ends the flow by enqueueing the call (terminal).
type Queue struct {
	Note     string     `json:"note,omitempty"`
	Queue    string     `json:"queue"`
	Priority int        `json:"priority,omitempty"`
	Skills   []SkillReq `json:"skills,omitempty"`
}

// SkillReq asks for a skill at a minimum level.
type SkillReq struct {
	Skill    string `json:"skill"`
	MinLevel int    `json:"min_level,omitempty"`
}

// Transfer ends the flow by transferring the call to an extension or an
// external number, exactly one of them (terminal).
type Transfer struct {
	Note      string `json:"note,omitempty"`
	Extension string `json:"extension,omitempty"` // 2-8 digits
	Number    string `json:"number,omitempty"`    // optional +, 1-32 digits
}

// Voicemail ends the flow in a voicemail box (terminal).
type Voicemail struct {
	Note string `json:"note,omitempty"`
	Box  string `json:"box"`
}

// Hangup ends the call (terminal).
type Hangup struct {
	Note string `json:"note,omitempty"`
}

// Goto jumps to Target.
type Goto struct {
	Note   string `json:"note,omitempty"`
	Target string `json:"target"`
}

// Type implements Node.
func (*Play) Type() NodeType      { return TypePlay }
func (*Menu) Type() NodeType      { return TypeMenu }
func (*Gather) Type() NodeType    { return TypeGather }
func (*HTTP) Type() NodeType      { return TypeHTTP }
func (*Condition) Type() NodeType { return TypeCondition }
func (*Set) Type() NodeType       { return TypeSet }
func (*Queue) Type() NodeType     { return TypeQueue }
func (*Transfer) Type() NodeType  { return TypeTransfer }
func (*Voicemail) Type() NodeType { return TypeVoicemail }
func (*Hangup) Type() NodeType    { return TypeHangup }
func (*Goto) Type() NodeType      { return TypeGoto }

func (n *Play) edges() []edge { return []edge{{"next", n.Next, true}} }
func (n *Menu) edges() []edge {
	es := []edge{{"on_failure", n.OnFailure, true}}
	for _, k := range sortedKeys(n.Choices) {
		es = append(es, edge{"choices." + k, n.Choices[k], true})
	}
	return es
}
func (n *Gather) edges() []edge {
	return []edge{{"next", n.Next, true}, {"on_failure", n.OnFailure, true}}
}
func (n *HTTP) edges() []edge {
	return []edge{{"next", n.Next, true}, {"on_failure", n.OnFailure, true}}
}
func (n *Condition) edges() []edge {
	if n.Schedule != "" {
		return []edge{{"open", n.Open, true}, {"closed", n.Closed, true}, {"holiday", n.Holiday, false}}
	}
	return []edge{{"then", n.Then, true}, {"else", n.Else, true}}
}
func (n *Set) edges() []edge     { return []edge{{"next", n.Next, true}} }
func (*Queue) edges() []edge     { return nil }
func (*Transfer) edges() []edge  { return nil }
func (*Voicemail) edges() []edge { return nil }
func (*Hangup) edges() []edge    { return nil }
func (n *Goto) edges() []edge    { return []edge{{"target", n.Target, true}} }

// newNode returns an empty node of type t, or nil for an unknown type.
func newNode(t NodeType) Node {
	switch t {
	case TypePlay:
		return &Play{}
	case TypeMenu:
		return &Menu{}
	case TypeGather:
		return &Gather{}
	case TypeHTTP:
		return &HTTP{}
	case TypeCondition:
		return &Condition{}
	case TypeSet:
		return &Set{}
	case TypeQueue:
		return &Queue{}
	case TypeTransfer:
		return &Transfer{}
	case TypeVoicemail:
		return &Voicemail{}
	case TypeHangup:
		return &Hangup{}
	case TypeGoto:
		return &Goto{}
	}
	return nil
}
