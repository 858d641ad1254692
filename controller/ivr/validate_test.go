package ivr

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// baseFlow is a valid flow using most node types; validation cases break
// one thing each. Its loop menu -> g -> h -> say -> menu passes through a
// menu and a gather, so it is legal.
func baseFlow() *Flow {
	return &Flow{
		ID: "base", Name: "base", Version: 3, Language: LangZH, Start: "open",
		Escape: &Escape{Key: "0", Target: "q"},
		Nodes: map[string]Node{
			"open": &Condition{Schedule: "main", Open: "menu", Closed: "vm", Holiday: "bye"},
			"menu": &Menu{
				Input:   Input{Prompt: []Prompt{Say("请选择")}, OnFailure: "bye"},
				Choices: map[string]string{"1": "q", "2": "g", "3": "vip"},
			},
			"g": &Gather{Input: Input{Prompt: []Prompt{Say("请输入账号")}, OnFailure: "bye"},
				Var: "acct", MaxDigits: 8, Terminator: "#", Pattern: `\d{4,8}`, Next: "h"},
			"h": &HTTP{Method: "GET", URL: "http://127.0.0.1:1/acct/${acct}?c=${caller}",
				Result: map[string]string{"bal": "data.balance"}, Next: "say", OnFailure: "bye"},
			"say":  &Play{Prompt: []Prompt{Say("余额${bal}元")}, Next: "menu"},
			"vip":  &Condition{List: "vip", Then: "setp", Else: "cmp"},
			"cmp":  &Condition{Var: "bal", Op: OpLt, Value: "100", Then: "xfer", Else: "q"},
			"setp": &Set{Vars: map[string]string{"tier": "gold"}, Next: "jump"},
			"jump": &Goto{Target: "q"},
			"xfer": &Transfer{Extension: "1001"},
			"q":    &Queue{Queue: "sales", Priority: 5, Skills: []SkillReq{{Skill: "zh", MinLevel: 2}}},
			"vm":   &Voicemail{Box: "sales"},
			"bye":  &Hangup{},
		},
	}
}

func TestBaseFlowValid(t *testing.T) {
	if err := Validate(baseFlow()); err != nil {
		t.Fatal(err)
	}
	if err := Validate(DemoFlow()); err != nil {
		t.Fatal(err)
	}
}

// TestValidateNamesNode: one case per rule; each error must carry the
// sentinel, ErrInvalidFlow, and name the offending node and field.
func TestValidateNamesNode(t *testing.T) {
	menu := func(f *Flow) *Menu { return f.Nodes["menu"].(*Menu) }
	gather := func(f *Flow) *Gather { return f.Nodes["g"].(*Gather) }
	http := func(f *Flow) *HTTP { return f.Nodes["h"].(*HTTP) }
	cases := []struct {
		name   string
		mutate func(f *Flow)
		node   string
		field  string
		want   error
	}{
		{"missing next", func(f *Flow) { gather(f).Next = "" }, "g", "next", ErrMissingTarget},
		{"missing on_failure", func(f *Flow) { menu(f).OnFailure = "" }, "menu", "on_failure", ErrMissingTarget},
		{"dangling choice", func(f *Flow) { menu(f).Choices["2"] = "nowhere" }, "menu", "choices.2", ErrDanglingTarget},
		{"dangling condition branch", func(f *Flow) { f.Nodes["open"].(*Condition).Holiday = "nowhere" }, "open", "holiday", ErrDanglingTarget},
		{"dangling goto", func(f *Flow) { f.Nodes["jump"].(*Goto).Target = "nowhere" }, "jump", "target", ErrDanglingTarget},
		{"missing start", func(f *Flow) { f.Start = "" }, "", "start", ErrMissingTarget},
		{"dangling start", func(f *Flow) { f.Start = "nowhere" }, "", "start", ErrDanglingTarget},
		{"dangling escape", func(f *Flow) { f.Escape.Target = "nowhere" }, "", "escape.target", ErrDanglingTarget},
		{"unreachable", func(f *Flow) { f.Nodes["orphan"] = &Hangup{} }, "orphan", "", ErrUnreachable},
		{"unreachable escape target without input nodes", func(f *Flow) {
			f.Start = "bye"
			f.Escape.Target = "bye"
		}, "cmp", "", ErrUnreachable},
		{"busy loop of gotos", func(f *Flow) {
			f.Nodes["a"] = &Goto{Target: "b"}
			f.Nodes["b"] = &Play{Prompt: []Prompt{Say("x")}, Next: "a"}
			menu(f).Choices["4"] = "b"
		}, "a", "", ErrBusyLoop},
		{"busy self loop on http failure", func(f *Flow) { http(f).OnFailure = "h" }, "h", "", ErrBusyLoop},
		{"busy loop through set and condition", func(f *Flow) {
			f.Nodes["setp"].(*Set).Next = "vip"
			menu(f).Choices["5"] = "jump"
		}, "setp", "", ErrBusyLoop},
		{"bad gather regex", func(f *Flow) { gather(f).Pattern = "[0-9" }, "g", "pattern", ErrBadRegex},
		{"long gather regex", func(f *Flow) { gather(f).Pattern = strings.Repeat("1", MaxPatternLen+1) }, "g", "pattern", ErrBadRegex},
		{"bad condition regex", func(f *Flow) {
			f.Nodes["cmp"] = &Condition{Var: "bal", Op: OpRegex, Value: "(", Then: "xfer", Else: "q"}
		}, "cmp", "value", ErrBadRegex},
		{"url scheme", func(f *Flow) { http(f).URL = "ftp://127.0.0.1/x" }, "h", "url", ErrBadURL},
		{"url host from a variable", func(f *Flow) { http(f).URL = "http://${acct}/x" }, "h", "url", ErrBadURL},
		{"url host suffix from a variable", func(f *Flow) { http(f).URL = "http://api${acct}.example/x" }, "h", "url", ErrBadURL},
		{"url unclosed placeholder", func(f *Flow) { http(f).URL = "http://127.0.0.1/${acct" }, "h", "url", ErrBadURL},
		{"url relative", func(f *Flow) { http(f).URL = "/acct/${acct}" }, "h", "url", ErrBadURL},
		{"url credentials", func(f *Flow) { http(f).URL = "http://u:p@127.0.0.1/x" }, "h", "url", ErrBadURL},
		{"url empty", func(f *Flow) { http(f).URL = "" }, "h", "url", ErrBadURL},
		{"url too long", func(f *Flow) { http(f).URL = "http://127.0.0.1/" + strings.Repeat("a", MaxURLLen) }, "h", "url", ErrTooLong},
		{"http method", func(f *Flow) { http(f).Method = "DELETE" }, "h", "method", ErrInvalidValue},
		{"http body on GET", func(f *Flow) { http(f).Body = "{}" }, "h", "body", ErrInvalidValue},
		{"http timeout", func(f *Flow) { http(f).TimeoutMS = MaxHTTPMS + 1 }, "h", "timeout_ms", ErrInvalidValue},
		{"http result path", func(f *Flow) { http(f).Result["bal"] = "data..balance" }, "h", "result.bal", ErrInvalidValue},
		{"http result read-only var", func(f *Flow) { http(f).Result["caller"] = "x" }, "h", "result.caller", ErrInvalidValue},
		{"text too long", func(f *Flow) {
			f.Nodes["say"].(*Play).Prompt = []Prompt{Say(strings.Repeat("长", MaxTextLen/3+1))}
		}, "say", "prompt[0].text", ErrTooLong},
		{"too many prompts", func(f *Flow) {
			f.Nodes["say"].(*Play).Prompt = make([]Prompt, MaxPrompts+1)
		}, "say", "prompt", ErrTooLong},
		{"empty prompt", func(f *Flow) { f.Nodes["say"].(*Play).Prompt = []Prompt{{Voice: LangEN}} }, "say", "prompt[0]", ErrInvalidValue},
		{"no prompt on play", func(f *Flow) { f.Nodes["say"].(*Play).Prompt = nil }, "say", "prompt", ErrInvalidValue},
		{"bad voice", func(f *Flow) { f.Nodes["say"].(*Play).Prompt[0].Voice = "fr" }, "say", "prompt[0].voice", ErrInvalidValue},
		{"bad tone", func(f *Flow) { f.Nodes["say"].(*Play).Prompt = []Prompt{{Tone: "siren"}} }, "say", "prompt[0].tone", ErrInvalidValue},
		{"file escapes media dir", func(f *Flow) { f.Nodes["say"].(*Play).Prompt = []Prompt{PlayFile("../etc/passwd")} }, "say", "prompt[0].file", ErrInvalidValue},
		{"bad template", func(f *Flow) { f.Nodes["say"].(*Play).Prompt = []Prompt{Say("余额${bal")} }, "say", "prompt[0].text", ErrBadTemplate},
		{"bad template name", func(f *Flow) { f.Nodes["say"].(*Play).Prompt = []Prompt{Say("${1x}")} }, "say", "prompt[0].text", ErrBadTemplate},
		{"empty choices", func(f *Flow) { menu(f).Choices = map[string]string{} }, "menu", "choices", ErrEmptyChoices},
		{"two-key choice", func(f *Flow) { menu(f).Choices["12"] = "q" }, "menu", "choices.12", ErrBadDigit},
		{"letter choice", func(f *Flow) { menu(f).Choices["A"] = "q" }, "menu", "choices.A", ErrBadDigit},
		{"choice is the escape key", func(f *Flow) { menu(f).Choices["0"] = "q" }, "menu", "choices.0", ErrBadDigit},
		{"bad escape key", func(f *Flow) { f.Escape.Key = "x" }, "", "escape.key", ErrBadDigit},
		{"bad terminator", func(f *Flow) { gather(f).Terminator = "5" }, "g", "terminator", ErrBadDigit},
		{"terminator is the escape key", func(f *Flow) { f.Escape.Key = "#" }, "g", "terminator", ErrBadDigit},
		{"too many nodes", func(f *Flow) {
			for i := range MaxNodes {
				f.Nodes["n"+strconv.Itoa(i)] = &Hangup{}
			}
		}, "", "nodes", ErrTooManyNodes},
		{"no nodes", func(f *Flow) { f.Nodes = nil }, "", "nodes", ErrInvalidValue},
		{"language", func(f *Flow) { f.Language = "fr" }, "", "language", ErrInvalidValue},
		{"flow id", func(f *Flow) { f.ID = "a b" }, "", "id", ErrInvalidValue},
		{"node id", func(f *Flow) { f.Nodes["bad id"] = &Hangup{} }, "bad id", "", ErrInvalidValue},
		{"nil node", func(f *Flow) { f.Nodes["bye"] = nil }, "bye", "type", ErrUnknownNodeType},
		{"typed nil node", func(f *Flow) { f.Nodes["bye"] = (*Hangup)(nil) }, "bye", "type", ErrUnknownNodeType},
		{"gather max digits", func(f *Flow) { gather(f).MaxDigits = MaxDigits + 1 }, "g", "max_digits", ErrInvalidValue},
		{"gather min over max", func(f *Flow) { gather(f).MinDigits = 9 }, "g", "min_digits", ErrInvalidValue},
		{"gather read-only var", func(f *Flow) { gather(f).Var = VarCaller }, "g", "var", ErrInvalidValue},
		{"gather bad var", func(f *Flow) { gather(f).Var = "a-b" }, "g", "var", ErrInvalidValue},
		{"menu retries", func(f *Flow) { menu(f).Retries = MaxRetries + 1 }, "menu", "retries", ErrInvalidValue},
		{"menu timeout", func(f *Flow) { menu(f).TimeoutMS = -1 }, "menu", "timeout_ms", ErrInvalidValue},
		{"menu without prompt", func(f *Flow) { menu(f).Prompt = nil }, "menu", "prompt", ErrInvalidValue},
		{"condition with two tests", func(f *Flow) { f.Nodes["vip"].(*Condition).Var = "x" }, "vip", "", ErrInvalidValue},
		{"condition stray field", func(f *Flow) { f.Nodes["open"].(*Condition).Then = "q" }, "open", "then", ErrInvalidValue},
		{"condition numeric op on text", func(f *Flow) { f.Nodes["cmp"].(*Condition).Value = "abc" }, "cmp", "value", ErrInvalidValue},
		{"condition op", func(f *Flow) { f.Nodes["cmp"].(*Condition).Op = "like" }, "cmp", "op", ErrInvalidValue},
		{"set nothing", func(f *Flow) { f.Nodes["setp"].(*Set).Vars = nil }, "setp", "vars", ErrInvalidValue},
		{"set read-only", func(f *Flow) { f.Nodes["setp"].(*Set).Vars["called"] = "1" }, "setp", "vars.called", ErrInvalidValue},
		{"queue name", func(f *Flow) { f.Nodes["q"].(*Queue).Queue = "" }, "q", "queue", ErrInvalidValue},
		{"queue priority", func(f *Flow) { f.Nodes["q"].(*Queue).Priority = MaxPriority + 1 }, "q", "priority", ErrInvalidValue},
		{"queue skill", func(f *Flow) { f.Nodes["q"].(*Queue).Skills[0].Skill = "" }, "q", "skills[0].skill", ErrInvalidValue},
		{"transfer both", func(f *Flow) { f.Nodes["xfer"].(*Transfer).Number = "+8610" }, "xfer", "extension", ErrInvalidValue},
		{"transfer bad number", func(f *Flow) { f.Nodes["xfer"] = &Transfer{Number: "+86-10"} }, "xfer", "number", ErrInvalidValue},
		{"voicemail box", func(f *Flow) { f.Nodes["vm"].(*Voicemail).Box = "a/b" }, "vm", "box", ErrInvalidValue},
		{"note too long", func(f *Flow) { f.Nodes["bye"] = &Hangup{Note: strings.Repeat("x", MaxTextLen+1)} }, "bye", "note", ErrTooLong},
		{"control characters", func(f *Flow) { f.Nodes["say"].(*Play).Prompt[0].Text = "a\x00b" }, "say", "prompt[0].text", ErrInvalidValue},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := baseFlow()
			tc.mutate(f)
			err := Validate(f)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v, want a *ValidationError", err)
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrInvalidFlow) {
				t.Errorf("error %v does not wrap %v and ErrInvalidFlow", err, tc.want)
			}
			if ve.Node != tc.node || ve.Field != tc.field {
				t.Errorf("error names node %q field %q, want node %q field %q (%v)", ve.Node, ve.Field, tc.node, tc.field, err)
			}
			if tc.node != "" && !strings.Contains(err.Error(), strconv.Quote(tc.node)) {
				t.Errorf("message %q does not name node %q", err, tc.node)
			}
		})
	}
}

func TestValidateLoopThroughInputIsLegal(t *testing.T) {
	f := baseFlow()
	// menu "9" -> say -> menu: a loop, but it waits at the menu.
	f.Nodes["menu"].(*Menu).Choices["9"] = "say"
	if err := Validate(f); err != nil {
		t.Fatal(err)
	}
}
