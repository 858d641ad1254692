package controller

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the layering of the package documentation: the
// controller imports no HTTP (net/http, gin: that is api, above it), no
// store implementation and no media backend (it is handed them).
func TestImports(t *testing.T) {
	forbidden := []string{"net/http", "github.com/gin-gonic/", "hotline/api", "hotline/cmd/",
		"hotline/controller/store/sqlite", "hotline/controller/store/postgres", "hotline/controller/store/memstore",
		"hotline/mediacore/native", "hotline/adapters/"}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
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
			for _, bad := range forbidden {
				if path == bad || strings.HasPrefix(path, bad) {
					t.Errorf("%s imports %s", f, path)
				}
			}
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no source files checked")
	}
}
