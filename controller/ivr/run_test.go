package ivr

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"hotline/internal/clock"
)

// menuFlow: a menu with retries whose choices lead to terminal nodes.
func menuFlow() *Flow {
	return &Flow{
		ID: "m", Version: 7, Language: LangEN, Start: "menu",
		Escape: &Escape{Key: "0", Target: "agent"},
		Nodes: map[string]Node{
			"menu": &Menu{
				Input: Input{
					Prompt:        []Prompt{Say("main menu")},
					TimeoutMS:     4000,
					Retries:       2,
					InvalidPrompt: []Prompt{Say("invalid")},
					TimeoutPrompt: []Prompt{Say("no input")},
					OnFailure:     "fail",
				},
				Choices: map[string]string{"1": "sales", "2": "xfer", "3": "vm", "#": "bye"},
			},
			"sales": &Queue{Queue: "sales", Priority: 3, Skills: []SkillReq{{Skill: "en", MinLevel: 1}}},
			"agent": &Queue{Queue: "support", Priority: 9},
			"xfer":  &Transfer{Number: "+861012345"},
			"vm":    &Voicemail{Box: "sales"},
			"bye":   &Hangup{},
			"fail":  &Queue{Queue: "operators"},
		},
	}
}

func TestMenu(t *testing.T) {
	cases := []struct {
		name      string
		script    []answer
		end       End
		queue     string
		retries   int
		outcome   string
		collected [][]string // the prompts of each PlayAndCollect
	}{
		{"key 1", []answer{key("1")}, EndEnqueue, "sales", 0, "key 1",
			[][]string{{"en:main menu"}}},
		{"invalid then key", []answer{key("7"), key("1")}, EndEnqueue, "sales", 1, "key 1",
			[][]string{{"en:main menu"}, {"en:invalid", "en:main menu"}}},
		{"timeout then key", []answer{timeout, key("1")}, EndEnqueue, "sales", 1, "key 1",
			[][]string{{"en:main menu"}, {"en:no input", "en:main menu"}}},
		{"max retries mixed", []answer{timeout, key("9"), key("*")}, EndEnqueue, "operators", 2, "failure",
			[][]string{{"en:main menu"}, {"en:no input", "en:main menu"}, {"en:invalid", "en:main menu"}}},
		{"escape key", []answer{key("0")}, EndEnqueue, "support", 0, "escape",
			[][]string{{"en:main menu"}}},
		{"escape after a retry", []answer{key("5"), key("0")}, EndEnqueue, "support", 1, "escape", nil},
		{"two keys are invalid", []answer{key("12"), key("#")}, EndHangup, "", 1, "key #", nil},
		{"transfer", []answer{key("2")}, EndTransfer, "", 0, "key 2", nil},
		{"voicemail", []answer{key("3")}, EndVoicemail, "", 0, "key 3", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &fakeSession{script: tc.script}
			res, err := Run(context.Background(), menuFlow(), s, Env{})
			if err != nil {
				t.Fatal(err)
			}
			if res.End != tc.end {
				t.Fatalf("End = %q, want %q (path %v)", res.End, tc.end, pathOf(res))
			}
			if tc.queue != "" && (res.Enqueue == nil || res.Enqueue.Queue != tc.queue) {
				t.Fatalf("Enqueue = %+v, want queue %q", res.Enqueue, tc.queue)
			}
			if got := res.Path[0]; got.Outcome != tc.outcome || got.Retries != tc.retries {
				t.Errorf("menu step = %+v, want outcome %q retries %d", got, tc.outcome, tc.retries)
			}
			if len(s.script) != 0 {
				t.Errorf("%d answers left unused", len(s.script))
			}
			if tc.collected != nil {
				var got [][]string
				for _, p := range s.played {
					got = append(got, texts(p))
				}
				if !slices.EqualFunc(got, tc.collected, slices.Equal) {
					t.Errorf("prompts = %q, want %q", got, tc.collected)
				}
			}
			for _, sp := range s.specs {
				if sp.Max != 1 || sp.FirstDigitTimeout != 4*time.Second || !sp.BargeIn {
					t.Errorf("collect spec %+v", sp)
				}
			}
		})
	}
}

func TestTerminalResults(t *testing.T) {
	res, err := Run(context.Background(), menuFlow(), &fakeSession{script: []answer{key("1")}}, Env{})
	if err != nil {
		t.Fatal(err)
	}
	want := Enqueue{Queue: "sales", Priority: 3, Skills: []SkillReq{{Skill: "en", MinLevel: 1}}}
	if e := res.Enqueue; e == nil || e.Queue != want.Queue || e.Priority != want.Priority || !slices.Equal(e.Skills, want.Skills) {
		t.Errorf("Enqueue = %+v, want %+v", res.Enqueue, want)
	}
	if res.FlowID != "m" || res.Version != 7 {
		t.Errorf("flow %q version %d", res.FlowID, res.Version)
	}
	res, _ = Run(context.Background(), menuFlow(), &fakeSession{script: []answer{key("2")}}, Env{})
	if res.Transfer == nil || res.Transfer.Endpoint() != "tel/+861012345" {
		t.Errorf("Transfer = %+v", res.Transfer)
	}
	if got := (TransferTo{Extension: "1001"}).Endpoint(); got != "user/1001" {
		t.Errorf("extension endpoint %q", got)
	}
	res, _ = Run(context.Background(), menuFlow(), &fakeSession{script: []answer{key("3")}}, Env{})
	if res.Voicemail == nil || res.Voicemail.Box != "sales" {
		t.Errorf("Voicemail = %+v", res.Voicemail)
	}
	res, _ = Run(context.Background(), menuFlow(), &fakeSession{script: []answer{key("#")}}, Env{})
	if res.End != EndHangup || res.Path[len(res.Path)-1].Outcome != "hangup" {
		t.Errorf("hangup: %+v", res)
	}
}

func TestCallerHangsUp(t *testing.T) {
	s := &fakeSession{script: []answer{key("5"), hangup}}
	res, err := Run(context.Background(), menuFlow(), s, Env{})
	if !errors.Is(err, ErrHangup) {
		t.Fatalf("err = %v, want ErrHangup", err)
	}
	if res.End != EndAbandon || len(res.Path) != 1 || res.Path[0].Node != "menu" {
		t.Errorf("result %+v", res)
	}
	// During a play too.
	f := &Flow{Language: LangZH, Start: "p", Nodes: map[string]Node{
		"p": &Play{Prompt: []Prompt{Say("你好")}, Next: "q"}, "q": &Queue{Queue: "x"}}}
	res, err = Run(context.Background(), f, &fakeSession{playErr: ErrHangup}, Env{})
	if !errors.Is(err, ErrHangup) || res.End != EndAbandon {
		t.Errorf("play hangup: %v %+v", err, res)
	}
}

func TestContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Run(ctx, menuFlow(), &fakeSession{}, Env{})
	if !errors.Is(err, context.Canceled) || res.End != EndError {
		t.Errorf("err %v end %q", err, res.End)
	}
}

func TestPlayPrompts(t *testing.T) {
	f := &Flow{Language: LangZH, Start: "p", Nodes: map[string]Node{
		"p": &Play{Prompt: []Prompt{
			Say("你好，${caller}"),
			SayIn(LangEN, "hello"),
			{File: "prompts/welcome.wav", Text: "欢迎"},
			{Tone: ToneBeep},
			{Tone: ToneBusy, DurationMS: 500},
			Say("${unset}"),
		}, Next: "bye"},
		"bye": &Hangup{},
	}}
	s := &fakeSession{}
	res, err := Run(context.Background(), f, s, Env{Vars: map[string]string{VarCaller: "13800000000"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"zh:你好，13800000000", "en:hello", "file:prompts/welcome.wav", "tone:beep:1s", "tone:busy:500ms"}
	if len(s.played) != 1 || !slices.Equal(texts(s.played[0]), want) {
		t.Fatalf("played %+v, want %q", s.played, want)
	}
	if s.ops[0] != "play" || res.Path[0].Outcome != "played" {
		t.Errorf("ops %v path %v", s.ops, pathOf(res))
	}
	// The same flow in English speaks its default voice in English.
	f.Language = LangEN
	s = &fakeSession{}
	if _, err := Run(context.Background(), f, s, Env{}); err != nil {
		t.Fatal(err)
	}
	if got := s.played[0][0]; got.Voice != LangEN || got.Kind != MediaTTS {
		t.Errorf("first prompt %+v, want an English TTS", got)
	}
}

func gatherFlow(g *Gather) *Flow {
	g.Next, g.OnFailure = "done", "fail"
	if g.Prompt == nil {
		g.Prompt = []Prompt{Say("enter")}
	}
	g.InvalidPrompt = []Prompt{Say("wrong")}
	return &Flow{Language: LangEN, Start: "g", Escape: &Escape{Key: "*", Target: "agent"}, Nodes: map[string]Node{
		"g":     g,
		"done":  &Queue{Queue: "ok"},
		"fail":  &Hangup{},
		"agent": &Queue{Queue: "agent"},
	}}
}

func TestGather(t *testing.T) {
	cases := []struct {
		name    string
		g       Gather
		script  []answer
		end     string // the queue, or "" for the failure hangup
		acct    string
		outcome string
	}{
		{"digits", Gather{Var: "acct", MaxDigits: 6}, []answer{key("1234")}, "ok", "1234", "ok"},
		{"too few then ok", Gather{Var: "acct", MinDigits: 4, MaxDigits: 6, Input: Input{Retries: 1}},
			[]answer{key("12"), key("1234")}, "ok", "1234", "ok"},
		{"too few, no retry", Gather{Var: "acct", MinDigits: 4, MaxDigits: 6}, []answer{key("12")}, "", "", "failure"},
		{"pattern", Gather{Var: "acct", MaxDigits: 6, Pattern: `6\d{3}`, Input: Input{Retries: 2}},
			[]answer{key("5123"), key("61234"), key("6123")}, "ok", "6123", "ok"},
		{"non-digits without pattern", Gather{Var: "acct", MaxDigits: 6, Input: Input{Retries: 1}},
			[]answer{key("12#4"), key("124")}, "ok", "124", "ok"},
		{"timeouts", Gather{Var: "acct", MaxDigits: 6, Input: Input{Retries: 1}}, []answer{timeout, timeout}, "", "", "failure"},
		{"escape key alone", Gather{Var: "acct", MaxDigits: 6}, []answer{key("*")}, "agent", "", "escape"},
		{"escape key first", Gather{Var: "acct", MaxDigits: 6}, []answer{key("*12")}, "agent", "", "escape"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.g
			s := &fakeSession{script: tc.script}
			res, err := Run(context.Background(), gatherFlow(&g), s, Env{})
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if res.Enqueue != nil {
				got = res.Enqueue.Queue
			}
			if got != tc.end || res.Vars["acct"] != tc.acct || res.Path[0].Outcome != tc.outcome {
				t.Errorf("queue %q acct %q outcome %q, want %q %q %q", got, res.Vars["acct"], res.Path[0].Outcome, tc.end, tc.acct, tc.outcome)
			}
			if len(s.script) != 0 {
				t.Errorf("%d answers unused", len(s.script))
			}
		})
	}
}

func TestGatherSpecAndDigitEscape(t *testing.T) {
	g := &Gather{Var: "pin", MinDigits: 4, MaxDigits: 6, Terminator: "#", Input: Input{TimeoutMS: 7000}, InterDigitTimeoutMS: 2000}
	f := gatherFlow(g)
	f.Escape.Key = "0"
	s := &fakeSession{script: []answer{key("0123")}}
	res, err := Run(context.Background(), f, s, Env{})
	if err != nil {
		t.Fatal(err)
	}
	// A digit escape key is part of the input unless pressed alone.
	if res.Vars["pin"] != "0123" || res.Enqueue.Queue != "ok" {
		t.Errorf("vars %v end %+v", res.Vars, res.Enqueue)
	}
	want := CollectSpec{Max: 6, Min: 4, Terminator: "#", FirstDigitTimeout: 7 * time.Second, InterDigitTimeout: 2 * time.Second, BargeIn: true}
	if s.specs[0] != want {
		t.Errorf("spec %+v, want %+v", s.specs[0], want)
	}
	res, _ = Run(context.Background(), f, &fakeSession{script: []answer{key("0")}}, Env{})
	if res.Enqueue == nil || res.Enqueue.Queue != "agent" {
		t.Errorf("0 alone: %v", pathOf(res))
	}
	// Defaults.
	g2 := &Gather{Var: "x", MaxDigits: 3}
	s = &fakeSession{script: []answer{key("1")}}
	if _, err := Run(context.Background(), gatherFlow(g2), s, Env{}); err != nil {
		t.Fatal(err)
	}
	want = CollectSpec{Max: 3, Min: 1, FirstDigitTimeout: DefaultInputTimeout, InterDigitTimeout: DefaultInterDigitTimeout, BargeIn: true}
	if s.specs[0] != want {
		t.Errorf("default spec %+v, want %+v", s.specs[0], want)
	}
}

func httpFlow(h *HTTP) *Flow {
	h.Next, h.OnFailure = "say", "sorry"
	return &Flow{Language: LangZH, Start: "h", Nodes: map[string]Node{
		"h":     h,
		"say":   &Play{Prompt: []Prompt{Say("余额${bal}元")}, Next: "q"},
		"sorry": &Play{Prompt: []Prompt{Say("查询失败")}, Next: "q"},
		"q":     &Queue{Queue: "x"},
	}}
}

func TestHTTPNode(t *testing.T) {
	okBody := `{"data":{"balance":12.5,"name":"张三","vip":true,"none":null,"list":[{"id":"a"},{"id":"b"}]}}`
	cases := []struct {
		name    string
		lookup  *fakeLookup
		result  map[string]string
		outcome string
		vars    map[string]string
	}{
		{"success", answerJSON(200, okBody),
			map[string]string{"bal": "data.balance", "name": "data.name", "vip": "data.vip", "none": "data.none", "second": "data.list.1.id"},
			"ok", map[string]string{"bal": "12.5", "name": "张三", "vip": "true", "none": "", "second": "b"}},
		{"no mapping, any body", answerJSON(204, ""), nil, "ok", nil},
		{"error status", answerJSON(503, okBody), map[string]string{"bal": "data.balance"}, "status 503", nil},
		{"missing path", answerJSON(200, okBody), map[string]string{"bal": "data.nothing"}, "bad answer", nil},
		{"index out of range", answerJSON(200, okBody), map[string]string{"bal": "data.list.2.id"}, "bad answer", nil},
		{"object value", answerJSON(200, okBody), map[string]string{"bal": "data"}, "bad answer", nil},
		{"not JSON", answerJSON(200, "<html>"), map[string]string{"bal": "data.balance"}, "bad answer", nil},
		{"timeout", &fakeLookup{fn: func(context.Context, string, string, []byte) (int, []byte, error) {
			return 0, nil, ErrLookupTimeout
		}}, map[string]string{"bal": "data.balance"}, "timeout", nil},
		{"transport error", &fakeLookup{fn: func(context.Context, string, string, []byte) (int, []byte, error) {
			return 0, nil, errors.New("connection refused")
		}}, map[string]string{"bal": "data.balance"}, "error", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := &HTTP{Method: "GET", URL: "http://127.0.0.1:9/acct/${acct}?caller=${caller}", Result: tc.result, TimeoutMS: 1500}
			s := &fakeSession{}
			env := Env{HTTP: tc.lookup, Vars: map[string]string{VarCaller: "+86 10/1&x=1", "acct": "a b"}}
			res, err := Run(context.Background(), httpFlow(h), s, env)
			if err != nil {
				t.Fatal(err)
			}
			if res.Path[0].Outcome != tc.outcome {
				t.Fatalf("outcome %q, want %q", res.Path[0].Outcome, tc.outcome)
			}
			wantNext := "sorry"
			if tc.outcome == "ok" {
				wantNext = "say"
			}
			if res.Path[1].Node != wantNext {
				t.Errorf("next %q, want %q", res.Path[1].Node, wantNext)
			}
			for k, v := range tc.vars {
				if res.Vars[k] != v {
					t.Errorf("var %s = %q, want %q", k, res.Vars[k], v)
				}
			}
			if tc.outcome != "ok" {
				if _, set := res.Vars["bal"]; set {
					t.Errorf("a failed lookup set bal=%q", res.Vars["bal"])
				}
			}
			r := tc.lookup.reqs[0]
			if r.method != "GET" || r.url != "http://127.0.0.1:9/acct/a%20b?caller=%2B86%2010%2F1%26x%3D1" || r.body != "" || r.timeout != 1500*time.Millisecond {
				t.Errorf("request %+v", r)
			}
		})
	}
}

func TestHTTPPostBodyAndDefaults(t *testing.T) {
	l := answerJSON(200, `{"balance":"3"}`)
	h := &HTTP{Method: "POST", URL: "https://127.0.0.1/q", Body: `{"card":"${card}"}`, Result: map[string]string{"bal": "balance"}}
	res, err := Run(context.Background(), httpFlow(h), &fakeSession{}, Env{HTTP: l, Vars: map[string]string{"card": `a"b\`}})
	if err != nil {
		t.Fatal(err)
	}
	if got := l.reqs[0]; got.body != `{"card":"a\"b\\"}` || got.timeout != DefaultHTTPTimeout || got.method != "POST" {
		t.Errorf("request %+v", got)
	}
	if res.Vars["bal"] != "3" {
		t.Errorf("bal %q", res.Vars["bal"])
	}
	// No lookup client: the failure branch.
	res, err = Run(context.Background(), httpFlow(h), &fakeSession{}, Env{})
	if err != nil || res.Path[1].Node != "sorry" {
		t.Errorf("without HTTP: %v %v", err, pathOf(res))
	}
}

func TestHTTPCallEndsDuringLookup(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	l := &fakeLookup{fn: func(ctx context.Context, _, _ string, _ []byte) (int, []byte, error) {
		cancel()
		<-ctx.Done()
		return 0, nil, ctx.Err()
	}}
	res, err := Run(ctx, httpFlow(&HTTP{Method: "GET", URL: "http://127.0.0.1/"}), &fakeSession{}, Env{HTTP: l})
	if !errors.Is(err, context.Canceled) || res.End != EndError {
		t.Errorf("err %v end %q", err, res.End)
	}
}

func condFlow(c *Condition) *Flow {
	nodes := map[string]Node{"c": c}
	for _, e := range c.edges() {
		if e.target != "" {
			nodes[e.target] = &Queue{Queue: e.target}
		}
	}
	return &Flow{Language: LangZH, Start: "c", Nodes: nodes}
}

func TestCondition(t *testing.T) {
	sched := fakeSchedules{"o": StateOpen, "c": StateClosed, "h": StateHoliday}
	lists := fakeLists{"vip": {"100", "200"}}
	vars := map[string]string{VarCaller: "200", VarCalled: "800", "bal": "42.5", "acct": "6222001", "name": "abc"}
	cmp := func(v string, op CompareOp, val string) *Condition {
		return &Condition{Var: v, Op: op, Value: val, Then: "yes", Else: "no"}
	}
	cases := []struct {
		name string
		c    *Condition
		env  Env
		want string
	}{
		{"schedule open", &Condition{Schedule: "o", Open: "open", Closed: "closed", Holiday: "holiday"}, Env{Schedules: sched}, "open"},
		{"schedule closed", &Condition{Schedule: "c", Open: "open", Closed: "closed", Holiday: "holiday"}, Env{Schedules: sched}, "closed"},
		{"schedule holiday", &Condition{Schedule: "h", Open: "open", Closed: "closed", Holiday: "holiday"}, Env{Schedules: sched}, "holiday"},
		{"holiday without branch", &Condition{Schedule: "h", Open: "open", Closed: "closed"}, Env{Schedules: sched}, "closed"},
		{"unknown schedule", &Condition{Schedule: "zz", Open: "open", Closed: "closed"}, Env{Schedules: sched}, "closed"},
		{"no schedules", &Condition{Schedule: "o", Open: "open", Closed: "closed"}, Env{}, "closed"},
		{"caller listed", &Condition{List: "vip", Then: "yes", Else: "no"}, Env{Lists: lists}, "yes"},
		{"caller not listed", &Condition{List: "vip", Then: "yes", Else: "no"}, Env{Lists: lists, Vars: map[string]string{VarCaller: "300"}}, "no"},
		{"number template", &Condition{List: "vip", Number: "1${acct}", Then: "yes", Else: "no"},
			Env{Lists: lists, Vars: map[string]string{"acct": "00"}}, "yes"},
		{"list down", &Condition{List: "broken", Then: "yes", Else: "no"}, Env{Lists: lists}, "no"},
		{"no lists", &Condition{List: "vip", Then: "yes", Else: "no"}, Env{}, "no"},
		{"eq", cmp("called", OpEq, "800"), Env{}, "yes"},
		{"eq template", cmp("called", OpEq, "8${zero}0"), Env{Vars: map[string]string{VarCalled: "800", "zero": "0"}}, "yes"},
		{"eq false", cmp("called", OpEq, "801"), Env{}, "no"},
		{"ne", cmp("called", OpNe, "801"), Env{}, "yes"},
		{"prefix", cmp("acct", OpPrefix, "6222"), Env{}, "yes"},
		{"prefix false", cmp("acct", OpPrefix, "6228"), Env{}, "no"},
		{"regex", cmp("acct", OpRegex, `^62\d+$`), Env{}, "yes"},
		{"regex false", cmp("name", OpRegex, `^\d+$`), Env{}, "no"},
		{"lt", cmp("bal", OpLt, "100"), Env{}, "yes"},
		{"lt false", cmp("bal", OpLt, "42.5"), Env{}, "no"},
		{"le", cmp("bal", OpLe, "42.5"), Env{}, "yes"},
		{"gt", cmp("bal", OpGt, "9"), Env{}, "yes"},
		{"gt numeric not lexical", cmp("bal", OpGt, "100"), Env{}, "no"},
		{"ge", cmp("bal", OpGe, "42.5"), Env{}, "yes"},
		{"numeric on text", cmp("name", OpLt, "100"), Env{}, "no"},
		{"unset var", cmp("nothing", OpEq, ""), Env{}, "yes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := tc.env
			if env.Vars == nil {
				env.Vars = vars
			}
			res, err := Run(context.Background(), condFlow(tc.c), &fakeSession{}, env)
			if err != nil {
				t.Fatal(err)
			}
			if res.Enqueue == nil || res.Enqueue.Queue != tc.want {
				t.Errorf("went to %v, want %q", pathOf(res), tc.want)
			}
		})
	}
}

func TestPlayNothingToSay(t *testing.T) {
	f := &Flow{Language: LangZH, Start: "p", Nodes: map[string]Node{
		"p": &Play{Prompt: []Prompt{Say("${empty}")}, Next: "q"}, "q": &Queue{Queue: "x"}}}
	s := &fakeSession{}
	res, err := Run(context.Background(), f, s, Env{})
	if err != nil || len(s.ops) != 0 || res.End != EndEnqueue {
		t.Errorf("err %v ops %v end %q", err, s.ops, res.End)
	}
}

func TestResultJSON(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	res, err := Run(context.Background(), menuFlow(), &fakeSession{script: []answer{key("4"), key("1")}}, Env{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	res.Vars = nil
	b, err := json.Marshal(res)
	want := `{"flow_id":"m","version":7,"end":"enqueue","enqueue":{"queue":"sales","priority":3,"skills":[{"skill":"en","min_level":1}]},` +
		`"path":[{"node":"menu","type":"menu","at":"2026-12-07T09:00:00Z","outcome":"key 1","retries":1},` +
		`{"node":"sales","type":"queue","at":"2026-12-07T09:00:00Z","outcome":"enqueue"}]}`
	if err != nil || string(b) != want {
		t.Errorf("JSON %s, want %s (%v)", b, want, err)
	}
}

func TestSetAndGoto(t *testing.T) {
	f := &Flow{Language: LangZH, Start: "s", Nodes: map[string]Node{
		"s": &Set{Vars: map[string]string{"a": "x${b}", "b": "new", "who": "${caller}"}, Next: "g"},
		"g": &Goto{Target: "q"},
		"q": &Queue{Queue: "x"},
	}}
	res, err := Run(context.Background(), f, &fakeSession{}, Env{Vars: map[string]string{VarCaller: "1", "b": "old"}})
	if err != nil {
		t.Fatal(err)
	}
	// Values see the variables as they were before the node.
	if res.Vars["a"] != "xold" || res.Vars["b"] != "new" || res.Vars["who"] != "1" {
		t.Errorf("vars %v", res.Vars)
	}
	if got := pathOf(res); !slices.Equal(got, []string{"s=set", "g=goto", "q=enqueue"}) {
		t.Errorf("path %v", got)
	}
}

func TestValuesClipped(t *testing.T) {
	f := &Flow{Language: LangZH, Start: "q", Nodes: map[string]Node{"q": &Queue{Queue: "x"}}}
	long := strings.Repeat("长", MaxValueLen) // 3 bytes each
	res, _ := Run(context.Background(), f, &fakeSession{}, Env{Vars: map[string]string{"v": long}})
	if v := res.Vars["v"]; len(v) > MaxValueLen || !strings.HasPrefix(long, v) || len(v) < MaxValueLen-3 {
		t.Errorf("value of %d bytes", len(res.Vars["v"]))
	}
}

func TestMaxSteps(t *testing.T) {
	// A legal loop that the caller keeps going round.
	f := &Flow{Language: LangEN, Start: "m", Nodes: map[string]Node{
		"m":   &Menu{Input: Input{Prompt: []Prompt{Say("again?")}, OnFailure: "bye"}, Choices: map[string]string{"1": "p"}},
		"p":   &Play{Prompt: []Prompt{Say("info")}, Next: "m"},
		"bye": &Hangup{},
	}}
	script := make([]answer, 100)
	for i := range script {
		script[i] = key("1")
	}
	res, err := Run(context.Background(), f, &fakeSession{script: script}, Env{MaxSteps: 10})
	if !errors.Is(err, ErrTooManySteps) || res.End != EndError || len(res.Path) != 10 {
		t.Errorf("err %v end %q steps %d", err, res.End, len(res.Path))
	}
	// The default applies when MaxSteps is zero.
	script = make([]answer, 2*DefaultMaxSteps)
	for i := range script {
		script[i] = key("1")
	}
	res, err = Run(context.Background(), f, &fakeSession{script: script}, Env{})
	if !errors.Is(err, ErrTooManySteps) || len(res.Path) != DefaultMaxSteps {
		t.Errorf("default: err %v steps %d", err, len(res.Path))
	}
}

func TestPathTimesAndStartAt(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	s := &timedSession{fakeSession: fakeSession{script: []answer{key("1")}}, clk: clk}
	res, err := Run(context.Background(), menuFlow(), s, Env{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Path) != 2 || !res.Path[0].At.Equal(clk.Now().Add(-3*time.Second)) || !res.Path[1].At.Equal(clk.Now()) {
		t.Errorf("path %+v (now %v)", res.Path, clk.Now())
	}
	res, err = Run(context.Background(), menuFlow(), &fakeSession{}, Env{StartAt: "vm"})
	if err != nil || res.End != EndVoicemail || len(res.Path) != 1 {
		t.Errorf("StartAt: %v %+v", err, res)
	}
	_, err = Run(context.Background(), menuFlow(), &fakeSession{}, Env{StartAt: "nowhere"})
	if !errors.Is(err, ErrDanglingTarget) {
		t.Errorf("StartAt nowhere: %v", err)
	}
}

// timedSession advances a fake clock by 3 s per collect (the caller
// thinking).
type timedSession struct {
	fakeSession
	clk *clock.Fake
}

func (s *timedSession) PlayAndCollect(ctx context.Context, p []Media, spec CollectSpec) (string, error) {
	s.clk.Advance(3 * time.Second)
	return s.fakeSession.PlayAndCollect(ctx, p, spec)
}

func TestRunRefusesInvalidFlow(t *testing.T) {
	f := menuFlow()
	f.Nodes["menu"].(*Menu).Choices["1"] = "nowhere"
	res, err := Run(context.Background(), f, &fakeSession{}, Env{})
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Node != "menu" || res.End != EndError || len(res.Path) != 0 {
		t.Errorf("err %v res %+v", err, res)
	}
	if _, err := Run(context.Background(), nil, &fakeSession{}, Env{}); !errors.Is(err, ErrInvalidFlow) {
		t.Errorf("nil flow: %v", err)
	}
}

// keypad is a Session that receives raw key presses and applies the
// CollectSpec as a media core would: it stops at the terminator (dropped)
// or at Max keys; an empty press list is a timeout.
type keypad struct{ presses []string }

func (k *keypad) Play(context.Context, []Media) error { return nil }

func (k *keypad) PlayAndCollect(_ context.Context, _ []Media, spec CollectSpec) (string, error) {
	if len(k.presses) == 0 {
		return "", ErrHangup
	}
	p := k.presses[0]
	k.presses = k.presses[1:]
	var got []byte
	for i := 0; i < len(p); i++ {
		if spec.Terminator != "" && p[i] == spec.Terminator[0] {
			break
		}
		got = append(got, p[i])
		if len(got) == spec.Max {
			break
		}
	}
	return string(got), nil
}

func TestGatherTerminator(t *testing.T) {
	cases := []struct {
		name       string
		terminator string
		presses    []string
		want       string // the stored value, "" for the failure branch
	}{
		{"terminated", "#", []string{"1234#"}, "1234"},
		{"terminated early, too short, retried", "#", []string{"12#", "5678#"}, "5678"},
		{"max digits without terminator", "#", []string{"123456789"}, "123456"},
		{"star terminator", "*", []string{"4321*"}, "4321"},
		{"no terminator: # is an invalid key", "", []string{"123#", "1234"}, "1234"},
		{"only the terminator", "#", []string{"#", "#"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := &Gather{Var: "acct", MinDigits: 4, MaxDigits: 6, Terminator: tc.terminator, Input: Input{Retries: 1}}
			f := gatherFlow(g)
			f.Escape.Key = "0" // the star is a terminator here
			res, err := Run(context.Background(), f, &keypad{presses: tc.presses}, Env{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Vars["acct"] != tc.want || (tc.want == "") != (res.End == EndHangup) {
				t.Errorf("acct %q end %q, want %q", res.Vars["acct"], res.End, tc.want)
			}
		})
	}
}
