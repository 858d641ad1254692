package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hotline/controller/ivr"
	"hotline/controller/store"
	"hotline/controller/store/memstore"
)

func TestDirRecordingStore(t *testing.T) {
	dir := t.TempDir()
	day := time.Date(2026, 3, 5, 23, 59, 0, 0, time.FixedZone("CST", 8*3600)) // 15:59 UTC
	s, err := OpenDirRecordingStore(dir, func() time.Time { return day })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	audio := bytes.Repeat([]byte("RIFFdata"), 1000)
	p, n, err := s.Save(t.Context(), "rec-1", bytes.NewReader(audio))
	if err != nil {
		t.Fatal(err)
	}
	if p != "2026/03/05/rec-1.wav" || n != int64(len(audio)) {
		t.Fatalf("saved at %q, %d bytes", p, n)
	}
	f, err := s.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(8, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(got, audio[8:]) {
		t.Fatal("read back differs")
	}
	// No temporary file is left behind.
	ents, _ := os.ReadDir(filepath.Join(dir, "2026/03/05"))
	if len(ents) != 1 {
		t.Fatalf("directory holds %v", ents)
	}

	// A failed copy leaves nothing, not even a partial file.
	_, _, err = s.Save(t.Context(), "rec-2", io.MultiReader(bytes.NewReader(audio), errReader{}))
	if err == nil {
		t.Fatal("a failing reader saved")
	}
	if _, err := os.Stat(filepath.Join(dir, "2026/03/05/rec-2.wav")); !os.IsNotExist(err) {
		t.Fatalf("partial recording visible: %v", err)
	}
	ents, _ = os.ReadDir(filepath.Join(dir, "2026/03/05"))
	if len(ents) != 1 {
		t.Fatalf("a failed save left %v", ents)
	}
	for _, bad := range []string{"../x", "a/b", "", ".hidden", strings.Repeat("x", 200)} {
		if _, _, err := s.Save(t.Context(), bad, bytes.NewReader(nil)); !errors.Is(err, ErrBadRecordingID) {
			t.Errorf("Save(%q): %v", bad, err)
		}
	}
	for _, bad := range []string{"../../etc/passwd", "/etc/passwd", "2026/../../x.wav", ""} {
		if _, err := s.Open(bad); !errors.Is(err, ErrBadRecordingID) {
			t.Errorf("Open(%q): %v", bad, err)
		}
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk gone") }

const testFlow = `{"language":"en","start":"m","nodes":{
 "m":{"type":"menu","prompt":[{"text":"press 1"}],"choices":{"1":"bye"},"timeout_ms":5000,"retries":1,"on_failure":"bye"},
 "bye":{"type":"hangup"}}}`

func TestStoreFlows(t *testing.T) {
	st := memstore.New(nil)
	f := store.IVRFlow{Name: "main", Flow: json.RawMessage(testFlow)}
	if err := st.IVRFlows().Create(t.Context(), &f); err != nil {
		t.Fatal(err)
	}
	src := NewStoreFlows(st.IVRFlows())
	fl, v, err := src.Flow(t.Context(), f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v != 1 || fl.ID != f.ID || fl.Version != 1 || fl.Name != "main" {
		t.Fatalf("flow %+v v%d", fl, v)
	}
	again, _, _ := src.Flow(t.Context(), f.ID)
	if again != fl {
		t.Fatal("the same version was parsed again")
	}
	f.Flow = json.RawMessage(strings.Replace(testFlow, `"en"`, `"zh"`, 1))
	if err := st.IVRFlows().Update(t.Context(), &f); err != nil {
		t.Fatal(err)
	}
	fl2, v2, err := src.Flow(t.Context(), f.ID)
	if err != nil || v2 != 2 || fl2.Language != "zh" || fl.Language != "en" {
		t.Fatalf("after update: %+v v%d %v; the old version must stay as it was", fl2, v2, err)
	}
	// A stored document that does not validate names the node.
	bad := store.IVRFlow{Name: "bad", Flow: json.RawMessage(strings.Replace(testFlow, `"1":"bye"`, `"1":"nowhere"`, 1))}
	if err := st.IVRFlows().Create(t.Context(), &bad); err != nil {
		t.Fatal(err)
	}
	_, _, err = src.Flow(t.Context(), bad.ID)
	var ve *ivr.ValidationError
	if !errors.As(err, &ve) || ve.Node != "m" {
		t.Fatalf("bad flow: %v", err)
	}
	if _, _, err := src.Flow(t.Context(), "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing flow: %v", err)
	}

	// The store down: the last version loaded still serves calls; a
	// preloaded source serves from the first call.
	fresh := NewStoreFlows(st.IVRFlows())
	if n, skipped, err := fresh.Preload(t.Context()); err != nil || n != 1 || skipped != 1 {
		t.Fatalf("preload: %d loaded, %d skipped, %v", n, skipped, err)
	}
	st.SetDown(true)
	for _, s := range []*StoreFlows{src, fresh} {
		fl, v, err := s.Flow(t.Context(), f.ID)
		if err != nil || v != 2 || fl.Language != "zh" {
			t.Fatalf("store down: %+v v%d %v", fl, v, err)
		}
	}
	if _, _, err := NewStoreFlows(st.IVRFlows()).Flow(t.Context(), f.ID); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("never loaded, store down: %v", err)
	}
	st.SetDown(false)
	if err := st.IVRFlows().Delete(t.Context(), f.ID, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := src.Flow(t.Context(), f.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted flow: %v", err)
	}
}

type fakeCRM struct {
	c   Customer
	err error
}

func (f fakeCRM) LookupCaller(context.Context, string) (Customer, error) { return f.c, f.err }

func TestStoreDirectory(t *testing.T) {
	st := memstore.New(nil)
	ctx := t.Context()
	ct := store.Contact{Name: "Li Lei", Numbers: []string{"+8613800001111"}, Company: "ACME", Fields: map[string]string{"tier": "gold"}}
	if err := st.Contacts().Create(ctx, &ct); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i, caller := range []string{"+8613800001111", "+8613800001111", "+10000"} {
		c := journalCDR(i)
		c.Caller, c.Start = caller, start.Add(time.Duration(i)*time.Minute)
		if err := st.CDRs().Put(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, number string
		crm          Directory
		wantName     string
		wantSource   string
		wantHistory  int
	}{
		{"exact", "+8613800001111", nil, "Li Lei", "directory", 2},
		{"without plus", "8613800001111", nil, "Li Lei", "directory", 0},
		{"with separators", "+86 138-0000-1111", nil, "Li Lei", "directory", 0},
		{"unknown", "+999", nil, "", "", 0},
		{"crm wins", "+8613800001111", fakeCRM{c: Customer{Name: "From CRM", Source: "crm"}}, "From CRM", "crm", 2},
		{"crm fails: directory", "+8613800001111", fakeCRM{err: errors.New("timeout")}, "Li Lei", "directory", 2},
		{"crm finds nothing: directory", "+8613800001111", fakeCRM{}, "Li Lei", "directory", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewStoreDirectory(st, tc.crm, nil)
			c, err := d.LookupCaller(ctx, tc.number)
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != tc.wantName || c.Source != tc.wantSource || len(c.History) != tc.wantHistory {
				t.Fatalf("got %+v", c)
			}
			if tc.wantHistory == 2 && !c.History[0].Start.After(c.History[1].Start) {
				t.Fatal("history is not newest first")
			}
		})
	}
	st.SetDown(true)
	if _, err := (&StoreDirectory{Contacts: st.Contacts()}).LookupCaller(ctx, "+1"); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("store down: %v", err)
	}
}
