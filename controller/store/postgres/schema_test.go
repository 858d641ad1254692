package postgres

import (
	"bufio"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// schemaShape lists, per table, the column names of a migration file in
// order (columns added by ALTER TABLE under "<table> +"), plus the names of its indexes: what must agree between dialects
// (the types may differ).
func schemaShape(t *testing.T, sql string) (map[string][]string, []string) {
	t.Helper()
	tables := map[string][]string{}
	var indexes []string
	current := ""
	sc := bufio.NewScanner(strings.NewReader(sql))
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "CREATE TABLE "):
			current = fields[2]
			tables[current] = nil
		case strings.HasPrefix(line, "ALTER TABLE ") && len(fields) >= 6 && fields[3] == "ADD" && fields[4] == "COLUMN":
			// A column added to an existing table: "<table> +" lists them.
			tables[fields[2]+" +"] = append(tables[fields[2]+" +"], fields[5])
		case strings.HasPrefix(line, "CREATE INDEX "):
			indexes = append(indexes, fields[2]+" "+strings.Join(fields[3:], " "))
		case strings.HasPrefix(line, ")"):
			current = ""
		case current != "" && len(fields) > 0:
			tables[current] = append(tables[current], fields[0])
		}
	}
	return tables, indexes
}

// TestSchemaMatchesSQLite keeps the two dialects' migrations in step: same
// tables, same columns in the same order, same indexes.
func TestSchemaMatchesSQLite(t *testing.T) {
	pgFiles, err := filepath.Glob("migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	liteFiles, err := filepath.Glob("../sqlite/migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(pgFiles) == 0 || len(pgFiles) != len(liteFiles) {
		t.Fatalf("postgres has %d migrations, sqlite %d", len(pgFiles), len(liteFiles))
	}
	for i := range pgFiles {
		t.Run(filepath.Base(pgFiles[i]), func(t *testing.T) {
			if filepath.Base(pgFiles[i]) != filepath.Base(liteFiles[i]) {
				t.Fatalf("migration names differ: %s vs %s", pgFiles[i], liteFiles[i])
			}
			pg, err := os.ReadFile(pgFiles[i])
			if err != nil {
				t.Fatal(err)
			}
			lite, err := os.ReadFile(liteFiles[i])
			if err != nil {
				t.Fatal(err)
			}
			pgTables, pgIdx := schemaShape(t, string(pg))
			liteTables, liteIdx := schemaShape(t, string(lite))
			if len(pgTables) == 0 {
				t.Fatal("no tables parsed")
			}
			if !reflect.DeepEqual(pgTables, liteTables) {
				t.Fatalf("tables differ:\npostgres %v\n  sqlite %v", pgTables, liteTables)
			}
			if !reflect.DeepEqual(pgIdx, liteIdx) {
				t.Fatalf("indexes differ:\npostgres %v\n  sqlite %v", pgIdx, liteIdx)
			}
		})
	}
}
