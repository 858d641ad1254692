package sqlstore

import (
	"testing"
	"testing/fstest"
	"time"
)

func TestRebind(t *testing.T) {
	tests := []struct {
		name     string
		numbered bool
		in, want string
	}{
		{"question marks kept", false, "SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = ? AND c = ?"},
		{"numbered", true, "SELECT a FROM t WHERE b = ? AND c IN (?, ?)", "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"},
		{"none", true, "SELECT 1", "SELECT 1"},
		{"ten and more", true, "??????????", "$1$2$3$4$5$6$7$8$9$10"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Dialect{Numbered: tc.numbered}).rebind(tc.in); got != tc.want {
				t.Fatalf("rebind(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseMigrationName(t *testing.T) {
	tests := []struct {
		name string
		want int // 0: error
	}{
		{"0001_init.sql", 1},
		{"12_add_index.sql", 12},
		{"0001.sql", 0},
		{"init.sql", 0},
		{"0001_.sql", 0},
		{"0000_zero.sql", 0},
		{"-1_neg.sql", 0},
		{"+1_plus.sql", 0},
		{"x1_bad.sql", 0},
		{"0002_init.txt", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMigrationName(tc.name)
			if tc.want == 0 {
				if err == nil {
					t.Fatalf("ParseMigrationName(%q) = %d, want an error", tc.name, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseMigrationName(%q) = %d, %v; want %d", tc.name, got, err, tc.want)
			}
		})
	}
}

func FuzzParseMigrationName(f *testing.F) {
	for _, s := range []string{"0001_init.sql", "1_a.sql", "_x.sql", "99999999999999999999_big.sql", "0001_init"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		v, err := ParseMigrationName(name)
		if err == nil && v <= 0 {
			t.Fatalf("ParseMigrationName(%q) accepted version %d", name, v)
		}
	})
}

func TestLoadMigrations(t *testing.T) {
	sql := &fstest.MapFile{Data: []byte("SELECT 1;")}
	tests := []struct {
		name    string
		fs      fstest.MapFS
		want    []int
		wantErr bool
	}{
		{"sorted by number, not by name", fstest.MapFS{"m/10_b.sql": sql, "m/2_a.sql": sql, "m/README": sql}, []int{2, 10}, false},
		{"duplicate version", fstest.MapFS{"m/1_a.sql": sql, "m/0001_b.sql": sql}, nil, true},
		{"bad name", fstest.MapFS{"m/first.sql": sql}, nil, true},
		{"missing dir", fstest.MapFS{}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := LoadMigrations(tc.fs, "m")
			if tc.wantErr {
				if err == nil {
					t.Fatalf("LoadMigrations succeeded with %+v", ms)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.Version)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("versions %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("versions %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// TestTextTimeOrder checks the property the SQLite range filters rely on:
// the text encoding sorts like the times it encodes.
func TestTextTimeOrder(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	steps := []time.Duration{0, time.Microsecond, 10 * time.Microsecond, time.Millisecond, 100 * time.Millisecond,
		time.Second, time.Hour, 24 * time.Hour, 400 * 24 * time.Hour}
	prev := ""
	for _, d := range steps {
		s := TextTime(base.Add(d)).(string)
		if len(s) != len(TextTimeLayout) {
			t.Fatalf("%q is not fixed width", s)
		}
		if s <= prev {
			t.Fatalf("%q does not sort after %q", s, prev)
		}
		prev = s
	}
}

func FuzzParseTime(f *testing.F) {
	f.Add(int64(0), "2026-03-01T09:00:07.123456Z")
	f.Add(int64(1767225600123456789), "2026-03-01T09:00:07+08:00")
	f.Add(int64(-62135596800), "garbage")
	f.Fuzz(func(t *testing.T, nanos int64, text string) {
		// Any text: an error or a UTC time, never a panic.
		if p, err := parseTime(text); err == nil && p.Location() != time.UTC {
			t.Fatalf("parseTime(%q) = %v, not UTC", text, p)
		}
		// Round trip of the text encoding for years 0000-9999.
		in := time.Unix(0, nanos).In(time.FixedZone("X", 3600))
		if in.Year() < 0 || in.Year() > 9999 {
			return
		}
		p, err := parseTime(TextTime(normTime(in)))
		if err != nil {
			t.Fatalf("parse %v: %v", in, err)
		}
		if !p.Equal(normTime(in)) || p.Location() != time.UTC {
			t.Fatalf("round trip of %v gave %v", in, p)
		}
	})
}

func TestJSONArgNull(t *testing.T) {
	var nilSlice []int
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"nil slice is NULL", nilSlice, nil},
		{"empty slice is []", []int{}, "[]"},
		{"nil pointer is NULL", (*int)(nil), nil},
		{"struct", struct {
			A int `json:"a"`
		}{1}, `{"a":1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := jsonArg(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("jsonArg(%#v) = %#v, %v; want %#v", tc.in, got, err, tc.want)
			}
		})
	}
}
