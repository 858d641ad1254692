package freeswitch

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"hotline/mediacore"
)

// injections are attempts to change an ESL command through one field:
// end the line, start another command, another originate variable or
// leg, another inline application or file, expand a variable, quote.
var injections = []string{
	"1001\napi system id",
	"1001\r\nbgapi system id",
	"1001\n\nsendmsg x",
	"1001\x00",
	"1001 &bgapi(system id)",
	"1001&system",
	"1001,origination_uuid=evil",
	"1001|user/1002",
	"${system(id)}",
	"$${hold_music}",
	"1001'x",
	"1001\"x",
	"a}user/evil{",
	"a{b",
	"a^^:b",
	"a[x=y]",
	"a!b",
	"a;b",
	"a=b",
	"a%b",
	"a`id`",
	"a\\b",
	"../../etc/passwd",
	"/etc/passwd",
	"a/../../b",
	"a b",
	"a\tb",
	"",
	strings.Repeat("9", 300),
}

// TestInjectionRefused sends every injection through every field that
// reaches a command and checks that each is refused before anything is
// sent (the fake switch received nothing new).
func TestInjectionRefused(t *testing.T) {
	f, b, log := startFake(t, nil)
	inboundCall(f, "c1")
	log.wait(t, "created", func(evs []mediacore.Event) bool { return count(evs, isType(mediacore.EventChannelCreated, "c1")) == 1 })
	f.event(map[string]string{"Event-Name": "CHANNEL_ANSWER", "Unique-ID": "c1"}, "")
	log.wait(t, "answered", func(evs []mediacore.Event) bool { return count(evs, isType(mediacore.EventAnswered, "c1")) == 1 })
	if err := b.CreateBridge(context.Background(), "br1"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	orig := func(mut func(*mediacore.OriginateRequest)) error {
		r := mediacore.OriginateRequest{ChannelID: "ch-x", Endpoint: "user/1001", Timeout: time.Second}
		mut(&r)
		octx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, err := b.Originate(octx, r)
		if errors.Is(err, context.DeadlineExceeded) {
			return nil // sent and waiting: accepted
		}
		return err
	}
	fields := map[string]func(s string) error{
		"endpoint user": func(s string) error { return orig(func(r *mediacore.OriginateRequest) { r.Endpoint = "user/" + s }) },
		"endpoint tel":  func(s string) error { return orig(func(r *mediacore.OriginateRequest) { r.Endpoint = "tel/" + s }) },
		"endpoint trunk": func(s string) error {
			return orig(func(r *mediacore.OriginateRequest) { r.Endpoint = "tel/10086@" + s })
		},
		"endpoint sip": func(s string) error {
			return orig(func(r *mediacore.OriginateRequest) { r.Endpoint = "sip:" + s + "@127.0.0.1" })
		},
		"endpoint raw":  func(s string) error { return orig(func(r *mediacore.OriginateRequest) { r.Endpoint = s }) },
		"caller number": func(s string) error { return orig(func(r *mediacore.OriginateRequest) { r.CallerIDNumber = "x" + s }) },
		"caller name":   func(s string) error { return orig(func(r *mediacore.OriginateRequest) { r.CallerIDName = "x" + s }) },
		"variable name": func(s string) error {
			return orig(func(r *mediacore.OriginateRequest) { r.Variables = map[string]string{"x" + s: "v"} })
		},
		"variable value": func(s string) error {
			return orig(func(r *mediacore.OriginateRequest) { r.Variables = map[string]string{"k": "x" + s} })
		},
		"originate id": func(s string) error {
			return orig(func(r *mediacore.OriginateRequest) { r.ChannelID = mediacore.ChannelID("x" + s) })
		},
		"answer channel": func(s string) error { return b.Answer(ctx, mediacore.ChannelID("c1"+s)) },
		"ring channel":   func(s string) error { return b.Ring(ctx, mediacore.ChannelID("c1"+s)) },
		"hangup channel": func(s string) error { return b.Hangup(ctx, mediacore.ChannelID("c1"+s), mediacore.CauseNormal) },
		"dtmf":           func(s string) error { return b.SendDTMF(ctx, "c1", "1"+s) },
		"dtmf channel":   func(s string) error { return b.SendDTMF(ctx, mediacore.ChannelID("c1"+s), "1") },
		"media file": func(s string) error {
			_, err := b.Play(ctx, mediacore.ChannelTarget("c1"), mediacore.PlayRequest{ID: "p1", Media: []mediacore.Media{mediacore.File("x" + s + ".wav")}})
			return err
		},
		"media file abs": func(s string) error {
			_, err := b.Play(ctx, mediacore.ChannelTarget("c1"), mediacore.PlayRequest{ID: "p1", Media: []mediacore.Media{mediacore.File(s)}})
			return err
		},
		"playback id": func(s string) error {
			_, err := b.Play(ctx, mediacore.ChannelTarget("c1"), mediacore.PlayRequest{ID: mediacore.PlaybackID("p" + s), Media: []mediacore.Media{mediacore.Silence(time.Second)}})
			return err
		},
		"stop playback id": func(s string) error { return b.StopPlayback(ctx, mediacore.PlaybackID("p"+s)) },
		"recording name": func(s string) error {
			_, err := b.Record(ctx, mediacore.ChannelTarget("c1"), mediacore.RecordRequest{ID: "r1", Name: "x" + s + ".wav"})
			return err
		},
		"recording name abs": func(s string) error {
			_, err := b.Record(ctx, mediacore.ChannelTarget("c1"), mediacore.RecordRequest{ID: "r1", Name: s})
			return err
		},
		"recording id": func(s string) error {
			_, err := b.Record(ctx, mediacore.ChannelTarget("c1"), mediacore.RecordRequest{ID: mediacore.RecordingID("r" + s)})
			return err
		},
		"stop recording id": func(s string) error { return b.StopRecording(ctx, mediacore.RecordingID("r"+s)) },
		"pause recording":   func(s string) error { return b.PauseRecording(ctx, mediacore.RecordingID("r"+s)) },
		"open recording": func(s string) error {
			_, err := b.OpenRecording(ctx, mediacore.RecordingID("r"+s))
			return err
		},
		"variable get name": func(s string) error {
			_, err := b.Variable(ctx, "c1", "x"+s)
			return err
		},
		"variable set name":  func(s string) error { return b.SetVariable(ctx, "c1", "x"+s, "v") },
		"variable set value": func(s string) error { return b.SetVariable(ctx, "c1", "k", "x"+s) },
		"bridge id":          func(s string) error { return b.CreateBridge(ctx, mediacore.BridgeID("b"+s)) },
		"add to bridge id": func(s string) error {
			return b.AddToBridge(ctx, mediacore.BridgeID("br1"+s), "c1", mediacore.Member{Role: mediacore.RoleSpeak})
		},
		"add to bridge channel": func(s string) error {
			return b.AddToBridge(ctx, "br1", mediacore.ChannelID("c1"+s), mediacore.Member{Role: mediacore.RoleSpeak})
		},
		"whisper target": func(s string) error {
			return b.AddToBridge(ctx, "br1", "c1", mediacore.Member{Role: mediacore.RoleWhisper, WhisperTo: mediacore.ChannelID("c2" + s)})
		},
		"hold channel": func(s string) error { return short(b.Hold(tctx(), mediacore.ChannelID("c1"+s), nil)) },
		"hold music": func(s string) error {
			m := mediacore.File("m" + s + ".wav")
			return short(b.Hold(tctx(), "c1", &m))
		},
		"put media": func(s string) error { return b.PutMedia(ctx, "x"+s+".wav", strings.NewReader("RIFF")) },
	}
	before := len(f.commands())
	total, refused := 0, 0
	for name, fn := range fields {
		for _, s := range injections {
			if name == "caller name" && strings.Trim(s, " ") != s+"" && !strings.ContainsAny(s, "\n\r\t\x00&,|${}'\"^[]!;=%`\\") {
				continue // a display name may hold spaces (it is quoted)
			}
			if name == "caller name" && s == "a b" {
				continue
			}
			if s == "" && (!strings.Contains(name, "raw") && !strings.Contains(name, "abs") || name == "recording name abs") {
				continue // with the field's prefix an empty payload is a plain value
			}
			if strings.Contains(s, "/") && (strings.Contains(name, "value") || name == "caller name") {
				continue // a slash is harmless in a value (paths are checked where they are paths)
			}
			if s == "/etc/passwd" && (name == "media file" || name == "recording name" || name == "hold music" || name == "put media") {
				continue // "x/etc/passwd.wav" is a relative path (the "abs" fields cover it)
			}
			total++
			if err := fn(s); err != nil {
				refused++
				continue
			}
			t.Errorf("%s: %q accepted", name, s)
		}
	}
	var sent []string
	for _, c := range f.commands()[before:] {
		if c != "api status" { // the watchdog's probe
			sent = append(sent, c)
		}
	}
	if len(sent) != 0 {
		t.Errorf("the switch received %d commands from injection attempts: %q", len(sent), sent)
	}
	t.Logf("%d/%d injection attempts refused before anything was sent", refused, total)
}

func tctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	_ = cancel // released by the timeout
	return ctx
}

// short treats a command that was sent and then waited as accepted.
func short(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}
