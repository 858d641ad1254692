package ivr

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestDemoFlow(t *testing.T) {
	if err := Validate(DemoFlow()); err != nil {
		t.Fatal(err)
	}
	a, b := DemoFlow(), DemoFlow()
	a.Nodes["welcome"].(*Menu).Choices["1"] = "support"
	if b.Nodes["welcome"].(*Menu).Choices["1"] != "sales" {
		t.Fatal("DemoFlow shares state between calls")
	}
	cases := []struct {
		name   string
		script []answer
		queue  string
	}{
		{"1 for sales", []answer{key("1")}, "sales"},
		{"2 for support", []answer{key("2")}, "support"},
		{"0 for a person", []answer{key("0")}, "support"},
		{"invalid, then sales", []answer{key("7"), key("1")}, "sales"},
		{"three timeouts", []answer{timeout, timeout, timeout}, "support"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &fakeSession{script: tc.script}
			res, err := Run(context.Background(), DemoFlow(), s, Env{Vars: map[string]string{VarCaller: "1001", VarCalled: DemoNumber}})
			if err != nil {
				t.Fatal(err)
			}
			if res.End != EndEnqueue || res.Enqueue.Queue != tc.queue {
				t.Fatalf("ended %q %+v, want queue %q", res.End, res.Enqueue, tc.queue)
			}
			if len(s.script) != 0 {
				t.Errorf("%d answers unused", len(s.script))
			}
			// The menu speaks Chinese first, then English.
			first := s.played[0]
			if len(first) != 2 || first[0].Voice != LangZH || first[1].Voice != LangEN ||
				!strings.Contains(first[0].Text, "销售请按1") || !strings.Contains(first[1].Text, "press 1") {
				t.Errorf("menu prompts %+v", first)
			}
		})
	}
}

// TestDocExample keeps the JSON example of the package documentation equal
// to testdata/flows/good_bank.json (which the tests parse, validate and run).
func TestDocExample(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/flows/good_bank.json")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	in := false
	for _, l := range strings.Split(string(doc), "\n") {
		switch {
		case l == "//\t{":
			in = true
		case !in:
			continue
		}
		lines = append(lines, strings.TrimPrefix(strings.TrimPrefix(l, "//\t"), "//"))
		if l == "//\t}" {
			break
		}
	}
	got := strings.Join(lines, "\n") + "\n"
	if got != string(want) {
		t.Errorf("doc.go example differs from good_bank.json:\n%s", got)
	}
	// Every node type of the documentation's table is a real type.
	re := regexp.MustCompile(`(?m)^//\t(\w+) {2,}`)
	var types []string
	for _, m := range re.FindAllStringSubmatch(string(doc), -1) {
		types = append(types, m[1])
	}
	for _, typ := range types {
		if newNode(NodeType(typ)) == nil {
			t.Errorf("documented type %q is not a node type", typ)
		}
	}
	if len(types) != 11 || !slices.Contains(types, "goto") {
		t.Errorf("documented types %v", types)
	}
}
