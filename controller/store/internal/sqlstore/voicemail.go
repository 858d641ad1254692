package sqlstore

import (
	"context"

	"hotline/controller/store"
)

// The column lists below must match migrations 0006_voicemail.sql of both
// dialects.

var voicemailBoxTable = table[store.VoicemailBox]{
	name: "voicemail_boxes", what: "voicemail box", kind: store.KindVoicemailBox,
	cols: []string{"name", "owner_kind", "owner_id", "pin", "greeting", "email", "language"},
	args: func(_ *Store, v *store.VoicemailBox) ([]any, error) {
		g, err := jsonArg(v.Greeting)
		if err != nil {
			return nil, err
		}
		return []any{v.Name, string(v.OwnerKind), v.OwnerID, v.PIN, g, v.Email, v.Language}, nil
	},
	dest: func(v *store.VoicemailBox) []any {
		return []any{&v.Name, &v.OwnerKind, &v.OwnerID, &v.PIN, jsonCol{&v.Greeting}, &v.Email, &v.Language}
	},
}

var voicemailMessageTable = table[store.VoicemailMessage]{
	name: "voicemail_messages", what: "voicemail message", kind: store.KindVoicemailMessage,
	cols: []string{"box_id", "call_id", "caller", "called", "at", "duration", "recording_id", "path", "bytes", "state"},
	args: func(s *Store, v *store.VoicemailMessage) ([]any, error) {
		return []any{v.BoxID, v.CallID, v.Caller, v.Called, s.timeArg(v.At), v.Duration, v.RecordingID, v.Path,
			v.Bytes, string(v.State)}, nil
	},
	dest: func(v *store.VoicemailMessage) []any {
		return []any{&v.BoxID, &v.CallID, &v.Caller, &v.Called, timeCol{&v.At}, &v.Duration, &v.RecordingID, &v.Path,
			&v.Bytes, &v.State}
	},
}

type voicemailBoxRepo struct {
	*repo[store.VoicemailBox, *store.VoicemailBox]
}

// GetByName implements store.VoicemailBoxRepo.
func (r *voicemailBoxRepo) GetByName(ctx context.Context, name string) (store.VoicemailBox, error) {
	return r.getBy(ctx, "name", name)
}

type voicemailMessageRepo struct {
	*repo[store.VoicemailMessage, *store.VoicemailMessage]
}

// ListByBox implements store.VoicemailMessageRepo.
func (r *voicemailMessageRepo) ListByBox(ctx context.Context, boxID string, opt store.ListOptions) (store.Page[store.VoicemailMessage], error) {
	return r.list(ctx, "box_id = ?", []any{boxID}, opt)
}

// VoicemailBoxes implements store.Store.
func (s *Store) VoicemailBoxes() store.VoicemailBoxRepo { return s.vmBoxes }

// VoicemailMessages implements store.Store.
func (s *Store) VoicemailMessages() store.VoicemailMessageRepo { return s.vmMessages }
