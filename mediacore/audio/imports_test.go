package audio

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsStayPure enforces the package doc's rule: production files
// import only the standard library, and never net or os, so that every
// media backend, the recorder and the conformance tests can use the package.
func TestImportsStayPure(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first := strings.SplitN(path, "/", 2)[0]
			switch {
			case path == "net" || strings.HasPrefix(path, "net/"), path == "os" || strings.HasPrefix(path, "os/"):
				t.Errorf("%s imports %q: files reach this package only as io interfaces", name, path)
			case strings.Contains(first, "."), first == "hotline":
				t.Errorf("%s imports %q: standard library only", name, path)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no production files found")
	}
}
