package main

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// jsonType is the header every documented request body must carry: the API
// answers 415 to any other Content-Type, and curl -d alone sends
// application/x-www-form-urlencoded.
const jsonType = "Content-Type: application/json"

// curlDataFlag matches curl's body options (-d, --data, --data-raw, ...).
var curlDataFlag = regexp.MustCompile(`(^|\s)(-d|--data[a-z-]*)(\s|=)`)

// curlStart matches a line that runs curl, not prose that names it.
var curlStart = regexp.MustCompile(`^\s*([A-Za-z_]+=\$\()?curl\s`)

// curlCommands returns the curl commands of a document with their line
// numbers: lines that start with curl (or VAR=$(curl), continuation lines
// ("\" at the end) joined, blanks collapsed. In a YAML file the commands sit
// in comments: the leading "#" is dropped first.
func curlCommands(text string, yaml bool) (cmds []string, lines []int) {
	var cur strings.Builder
	start := 0
	for i, l := range strings.Split(text, "\n") {
		if yaml {
			l = strings.TrimPrefix(strings.TrimLeft(l, " "), "#")
		}
		if cur.Len() == 0 {
			if !curlStart.MatchString(l) {
				continue
			}
			start = i + 1
		}
		cont := strings.HasSuffix(strings.TrimRight(l, " "), `\`)
		cur.WriteString(strings.TrimSuffix(strings.TrimRight(l, " "), `\`))
		cur.WriteString(" ")
		if !cont {
			cmds, lines = append(cmds, strings.Join(strings.Fields(cur.String()), " ")), append(lines, start)
			cur.Reset()
		}
	}
	return cmds, lines
}

// TestDocumentedCurlBodiesAreJSON: every curl command in the README, the
// deploy notes and the example configuration that sends a body declares it
// as JSON (directly, or through a header array H the same document defines
// with it). A command copied from the docs must not get 415.
func TestDocumentedCurlBodiesAreJSON(t *testing.T) {
	docs, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	docs = append(docs, "../../README.md", "../../deploy/README.md", "../../deploy/hotline.example.yaml")
	checked := 0
	for _, path := range docs {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		headerArray := regexp.MustCompile(`H=\([^)]*` + regexp.QuoteMeta(jsonType)).MatchString(text)
		cmds, lines := curlCommands(text, strings.HasSuffix(path, ".yaml"))
		for i, cmd := range cmds {
			if !curlDataFlag.MatchString(cmd) {
				continue
			}
			checked++
			if strings.Contains(cmd, jsonType) || headerArray && strings.Contains(cmd, `"${H[@]}"`) {
				continue
			}
			t.Errorf("%s:%d: curl sends a body without %q (the API answers 415):\n%s", path, lines[i], jsonType, cmd)
		}
	}
	if checked < 10 {
		t.Errorf("only %d documented curl commands with a body found: is the parser still right?", checked)
	}
}

func TestCurlCommands(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		yaml bool
		want []string
	}{
		{"one line", "x\ncurl -d '{}' u\ny\n# curl -d alone is prose", false, []string{"curl -d '{}' u"}},
		{"continued", "curl -X POST u \\\n  -d '{}'\n", false, []string{"curl -X POST u -d '{}'"}},
		{"yaml comment", "#  curl u \\\n#    -H 'a'\nkey: v\n", true, []string{"curl u -H 'a'"}},
		{"command substitution", "T=$(curl -s u \\\n -d x)\n", false, []string{"T=$(curl -s u -d x)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := curlCommands(tc.text, tc.yaml)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestExamplesHaveOutput: an Example without an "// Output:" comment is
// compiled but never run, so it can rot silently. Every Example in the
// module must state its output (go/doc reads it the way go test does).
func TestExamplesHaveOutput(t *testing.T) {
	byDir := map[string][]*ast.File{}
	fset := token.NewFileSet()
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".") && path != "../..") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		byDir[filepath.Dir(path)] = append(byDir[filepath.Dir(path)], f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	examples := 0
	for dir, files := range byDir {
		for _, ex := range doc.Examples(files...) {
			examples++
			if ex.Output == "" && !ex.EmptyOutput {
				t.Errorf("%s: Example%s has no // Output: comment, so go test never runs it", dir, ex.Name)
			}
		}
	}
	if examples < 5 {
		t.Errorf("only %d examples found: is the walk still right?", examples)
	}
}
