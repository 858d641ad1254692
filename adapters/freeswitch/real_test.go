package freeswitch

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"hotline/mediacore"
	"hotline/mediacore/mediatest/sippeer"
)

// TestRealRegistrationEvents: a phone registering to the switch (and
// unregistering) is reported as endpoint events.
func TestRealRegistrationEvents(t *testing.T) {
	in := mainSwitch(t)
	b, err := New(in.config())
	if err != nil {
		t.Fatal(err)
	}
	log := newSinkLog()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.Start(ctx, log.sink); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	p, err := sippeer.New(sippeer.Config{User: "agent"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if code, err := p.Register(ctx, in.sip, testPassword, 60); err != nil || code != 200 {
		t.Fatalf("register: %d %v", code, err)
	}
	log.wait(t, "EndpointRegistered", func(evs []mediacore.Event) bool {
		return count(evs, func(ev mediacore.Event) bool {
			return ev.Type == mediacore.EventEndpointRegistered && ev.Endpoint == "user/agent" && ev.Contact != ""
		}) == 1
	})
	if code, err := p.Register(ctx, in.sip, testPassword, 0); err != nil || code != 200 {
		t.Fatalf("unregister: %d %v", code, err)
	}
	log.wait(t, "EndpointUnregistered", func(evs []mediacore.Event) bool {
		return count(evs, func(ev mediacore.Event) bool {
			return ev.Type == mediacore.EventEndpointUnregistered && ev.Endpoint == "user/agent"
		}) == 1
	})
}

// TestNoSharedDirs: without shared directories, recordings are reported
// but not opened, and uploads are refused, both with ErrNotSupported.
func TestNoSharedDirs(t *testing.T) {
	f, b, log := startFake(t, nil)
	inboundCall(f, "c1")
	log.wait(t, "created", func(evs []mediacore.Event) bool { return count(evs, isType(mediacore.EventChannelCreated, "c1")) == 1 })
	ctx := context.Background()
	if _, err := b.Record(ctx, mediacore.ChannelTarget("c1"), mediacore.RecordRequest{ID: "r1", Stereo: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.OpenRecording(ctx, "r1"); !errors.Is(err, mediacore.ErrNoSuchRecording) {
		t.Errorf("open a running recording: %v", err)
	}
	if err := b.StopRecording(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	f.event(map[string]string{"Event-Name": "RECORD_STOP", "Unique-ID": "c1", "Record-File-Path": "/fake/recordings/r1.wav"}, "")
	log.wait(t, "finished", func(evs []mediacore.Event) bool {
		return count(evs, func(ev mediacore.Event) bool {
			return ev.Type == mediacore.EventRecordingFinished && ev.Recording == "r1" && ev.Path == "/fake/recordings/r1.wav"
		}) == 1
	})
	if _, err := b.OpenRecording(ctx, "r1"); !errors.Is(err, mediacore.ErrNotSupported) {
		t.Errorf("open without shared_recordings_dir: %v", err)
	}
	if err := b.PutMedia(ctx, "p/x.wav", strings.NewReader("RIFF....WAVE")); !errors.Is(err, mediacore.ErrNotSupported) {
		t.Errorf("put without shared_media_dir: %v", err)
	}
	var sent []string
	for _, c := range f.commands() {
		if strings.Contains(c, "RECORD_STEREO") || strings.Contains(c, "uuid_record") {
			sent = append(sent, c)
		}
	}
	want := []string{"api uuid_setvar c1 RECORD_STEREO true", "api uuid_record c1 start /fake/recordings/r1.wav", "api uuid_record c1 stop /fake/recordings/r1.wav"}
	if strings.Join(sent, "|") != strings.Join(want, "|") {
		t.Errorf("sent %q", sent)
	}
}
