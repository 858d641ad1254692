package api

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"hotline/controller"
	"hotline/controller/store"
)

func TestVoicemail(t *testing.T) {
	dir := t.TempDir()
	rs, err := controller.OpenDirRecordingStore(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rs.Close() })
	e := newEnvOpt(t, func(o *Options) { o.RecordingStore = rs })
	annID, queueID := e.seed()
	var bob store.Agent
	e.admin("POST", "/api/v1/agents", map[string]any{"name": "Bob", "extension": "1002"}, http.StatusCreated, &bob)
	_, annTok := e.userToken("ann", store.RoleAgent, annID)
	_, supTok := e.userToken("sam", store.RoleSupervisor, "")
	_, repTok := e.userToken("rita", store.RoleReporter, "")

	// Boxes: admins write, supervisors read, agents neither; bad input
	// names its field; the PIN is write-only.
	var annBox, bobBox store.VoicemailBox
	r := e.must(req{method: "POST", path: "/api/v1/voicemail/boxes", token: adminSecret, body: map[string]any{
		"name": "1001", "owner_kind": "agent", "owner_id": annID, "pin": "2468", "email": "ann@example.com",
		"greeting": map[string]any{"text": "Ann is away"}, "language": "en"}}, http.StatusCreated, &annBox)
	if strings.Contains(string(r.Body), "2468") || annBox.Greeting.Text != "Ann is away" {
		t.Fatalf("created box %s", r.Body)
	}
	e.must(req{method: "POST", path: "/api/v1/voicemail/boxes", token: adminSecret, body: map[string]any{
		"name": "1002", "owner_kind": "agent", "owner_id": bob.ID, "pin": "1357"}}, http.StatusCreated, &bobBox)
	if stored, _ := e.mem.VoicemailBoxes().Get(t.Context(), annBox.ID); stored.PIN != "2468" {
		t.Fatalf("stored PIN %q", stored.PIN)
	}
	e.must(req{method: "GET", path: "/api/v1/voicemail/boxes", token: supTok}, http.StatusOK, nil)
	wantField(t, e.do(req{method: "GET", path: "/api/v1/voicemail/boxes", token: annTok}), http.StatusForbidden, "")
	wantField(t, e.do(req{method: "POST", path: "/api/v1/voicemail/boxes", token: supTok, body: map[string]any{}}), http.StatusForbidden, "")
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"short pin", map[string]any{"name": "q1", "owner_kind": "queue", "owner_id": queueID, "pin": "12"}, "pin"},
		{"no pin", map[string]any{"name": "q1", "owner_kind": "queue", "owner_id": queueID}, "pin"},
		{"bad owner kind", map[string]any{"name": "q1", "owner_kind": "team", "owner_id": queueID, "pin": "1234"}, "owner_kind"},
		{"missing owner", map[string]any{"name": "q1", "owner_kind": "queue", "owner_id": "nope", "pin": "1234"}, "owner_id"},
		{"bad email", map[string]any{"name": "q1", "owner_kind": "queue", "owner_id": queueID, "pin": "1234", "email": "x"}, "email"},
		{"bad language", map[string]any{"name": "q1", "owner_kind": "queue", "owner_id": queueID, "pin": "1234", "language": "fr"}, "language"},
		{"bad greeting", map[string]any{"name": "q1", "owner_kind": "queue", "owner_id": queueID, "pin": "1234",
			"greeting": map[string]any{"file": "../etc/passwd"}}, "greeting.file"},
		{"bad name", map[string]any{"name": "a b", "owner_kind": "queue", "owner_id": queueID, "pin": "1234"}, "name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantField(t, e.do(req{method: "POST", path: "/api/v1/voicemail/boxes", token: adminSecret, body: tc.body}),
				http.StatusBadRequest, tc.field)
		})
	}
	wantField(t, e.do(req{method: "POST", path: "/api/v1/voicemail/boxes", token: adminSecret, body: map[string]any{
		"name": "1001", "owner_kind": "queue", "owner_id": queueID, "pin": "1234"}}), http.StatusConflict, "name")

	// Messages, as the call path leaves them.
	wav := bytes.Repeat([]byte("RIFFWAVE"), 200)
	msg := func(box store.VoicemailBox, call string) store.VoicemailMessage {
		path, n, err := rs.Save(t.Context(), "vm-"+call, bytes.NewReader(wav))
		if err != nil {
			t.Fatal(err)
		}
		m := store.VoicemailMessage{BoxID: box.ID, CallID: call, Caller: "13800000001", At: e.clock.Now(),
			RecordingID: "vm-" + call, Path: path, Bytes: n, State: store.VoicemailNew}
		if err := e.mem.VoicemailMessages().Create(t.Context(), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	annMsg, bobMsg := msg(annBox, "c1"), msg(bobBox, "c2")

	// An agent lists its own box by default and nobody else's.
	var pg page[store.VoicemailMessage]
	e.must(req{method: "GET", path: "/api/v1/voicemail", token: annTok}, http.StatusOK, &pg)
	if len(pg.Items) != 1 || pg.Items[0].ID != annMsg.ID {
		t.Fatalf("ann's list = %+v", pg.Items)
	}
	wantField(t, e.do(req{method: "GET", path: "/api/v1/voicemail?box_id=" + bobBox.ID, token: annTok}), http.StatusForbidden, "")
	wantField(t, e.do(req{method: "GET", path: "/api/v1/voicemail?box_id=nope", token: supTok}), http.StatusBadRequest, "box_id")
	wantField(t, e.do(req{method: "GET", path: "/api/v1/voicemail", token: repTok}), http.StatusForbidden, "")
	e.must(req{method: "GET", path: "/api/v1/voicemail", token: supTok}, http.StatusOK, &pg)
	if len(pg.Items) != 2 {
		t.Fatalf("supervisor's list = %+v", pg.Items)
	}
	for _, p := range []string{"", "/audio"} {
		wantField(t, e.do(req{method: "GET", path: "/api/v1/voicemail/" + bobMsg.ID + p, token: annTok}), http.StatusForbidden, "")
	}
	wantField(t, e.do(req{method: "GET", path: "/api/v1/voicemail/nope/audio", token: annTok}), http.StatusNotFound, "")

	// The audio, whole and by range (RFC 9110 §14: 206 with Content-Range).
	r = e.must(req{method: "GET", path: "/api/v1/voicemail/" + annMsg.ID + "/audio", token: annTok}, http.StatusOK, nil)
	if !bytes.Equal(r.Body, wav) || r.Header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("audio: %d bytes, %s", len(r.Body), r.Header.Get("Content-Type"))
	}
	r = e.do(req{method: "GET", path: "/api/v1/voicemail/" + annMsg.ID + "/audio", token: annTok,
		header: map[string]string{"Range": "bytes=100-199"}})
	if r.Code != http.StatusPartialContent || !bytes.Equal(r.Body, wav[100:200]) ||
		r.Header.Get("Content-Range") != "bytes 100-199/1600" {
		t.Fatalf("range: %d %q %d bytes", r.Code, r.Header.Get("Content-Range"), len(r.Body))
	}

	// Mark, refuse a bad state or a stale version, delete.
	var got store.VoicemailMessage
	e.must(req{method: "PATCH", path: "/api/v1/voicemail/" + annMsg.ID, token: annTok, body: map[string]any{"state": "saved"}},
		http.StatusOK, &got)
	if got.State != store.VoicemailSaved || got.Version != 2 {
		t.Fatalf("patched %+v", got)
	}
	wantField(t, e.do(req{method: "PATCH", path: "/api/v1/voicemail/" + annMsg.ID, token: annTok,
		body: map[string]any{"state": "lost"}}), http.StatusBadRequest, "state")
	wantField(t, e.do(req{method: "PATCH", path: "/api/v1/voicemail/" + annMsg.ID, token: annTok,
		body: map[string]any{"state": "read"}, header: map[string]string{"If-Match": `"1"`}}), http.StatusPreconditionFailed, "")
	wantField(t, e.do(req{method: "DELETE", path: "/api/v1/voicemail/" + bobMsg.ID, token: annTok}), http.StatusForbidden, "")
	e.must(req{method: "DELETE", path: "/api/v1/voicemail/" + annMsg.ID, token: annTok}, http.StatusNoContent, nil)
	wantField(t, e.do(req{method: "GET", path: "/api/v1/voicemail/" + annMsg.ID, token: annTok}), http.StatusNotFound, "")
}
