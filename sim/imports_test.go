package sim

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps doc.go true: the simulator talks to Hotline over
// HTTP and SIP only.
func TestImports(t *testing.T) {
	allowed := []string{"hotline/controller/store", "hotline/controller/reports", "hotline/mediacore/mediatest/sippeer"}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, "hotline/") && !slices.Contains(allowed, path) {
				t.Errorf("%s imports %s", f, path)
			}
		}
	}
}
