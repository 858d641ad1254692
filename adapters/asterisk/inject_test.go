package asterisk

import (
	"context"
	"strings"
	"testing"
	"time"

	"hotline/mediacore"
)

// Every field that reaches ARI, with injection attempts: each is refused
// before any request is sent (checked on the fake server's request log).
func TestInjectionRefused(t *testing.T) {
	f := newFakeARI(t)
	b, evs := startFake(t, f, func(c *Config) { c.Trunk = "carrier" })
	f.send(t, stasisStart("c1"))
	evs.wait(t, "created", created("c1"))
	ctx := context.Background()
	common := []string{
		"a,b", "a&b", "a|b", "a\r\nX-Evil: 1", "a\x00b", "${EVIL}", "$(x)", "a b", "a\"b", "a'b", "a`b",
		"a\\b", "a<b", "a>b", "a?b", "a{b}", "a\tb", "a\x7fb", strings.Repeat("1", 300),
	}
	// Ids and the parts of a dial string take words only.
	bad := append([]string{"a;b", "a/../b", "a(b)", "a:b", "a=b", "a@b", "a/b"}, common...)
	// Variable values are literal (never evaluated) but still refuse
	// what could alter a dial string or a header, and parentheses.
	values := append([]string{"a(b)", "a)b"}, common...)
	media := []string{"a;b", "a(b)", "a=b", "a@b", "x,sound:y", "x:y", "../etc/passwd", "/abs", "a/./b", "a b", "a;b", "recording:x", "a\nb", "a?b", "a#b"}
	type op struct {
		field string
		run   func(v string) error
	}
	ops := []op{
		{"originate endpoint user", func(v string) error {
			_, err := b.Originate(ctx, mediacore.OriginateRequest{ChannelID: "o1", Endpoint: "user/" + v})
			return err
		}},
		{"originate endpoint tel", func(v string) error {
			_, err := b.Originate(ctx, mediacore.OriginateRequest{ChannelID: "o1", Endpoint: "tel/" + v})
			return err
		}},
		{"originate endpoint tel trunk", func(v string) error {
			_, err := b.Originate(ctx, mediacore.OriginateRequest{ChannelID: "o1", Endpoint: "tel/100@" + v})
			return err
		}},
		{"originate endpoint sip user", func(v string) error {
			_, err := b.Originate(ctx, mediacore.OriginateRequest{ChannelID: "o1", Endpoint: "sip:" + v + "@127.0.0.1"})
			return err
		}},
		{"originate endpoint sip host", func(v string) error {
			_, err := b.Originate(ctx, mediacore.OriginateRequest{ChannelID: "o1", Endpoint: "sip:u@" + v})
			return err
		}},
		{"originate endpoint sip params", func(v string) error {
			_, err := b.Originate(ctx, mediacore.OriginateRequest{ChannelID: "o1", Endpoint: "sip:u@127.0.0.1;" + v})
			return err
		}},
		{"originate channel id", func(v string) error {
			_, err := b.Originate(ctx, mediacore.OriginateRequest{ChannelID: mediacore.ChannelID(v), Endpoint: "tel/100"})
			return err
		}},
		{"originate caller id number", func(v string) error {
			_, err := b.Originate(ctx, mediacore.OriginateRequest{ChannelID: "o1", Endpoint: "tel/100", CallerIDNumber: v})
			return err
		}},
		{"originate variable name", func(v string) error {
			_, err := b.Originate(ctx, mediacore.OriginateRequest{ChannelID: "o1", Endpoint: "tel/100", Variables: map[string]string{v: "x"}})
			return err
		}},
		{"originate variable value", func(v string) error {
			_, err := b.Originate(ctx, mediacore.OriginateRequest{ChannelID: "o1", Endpoint: "tel/100", Variables: map[string]string{"k": v}})
			return err
		}},
		{"set variable name", func(v string) error { return b.SetVariable(ctx, "c1", v, "x") }},
		{"set variable value", func(v string) error { return b.SetVariable(ctx, "c1", "k", v) }},
		{"variable name", func(v string) error { _, err := b.Variable(ctx, "c1", v); return err }},
		{"dtmf digits", func(v string) error { return b.SendDTMF(ctx, "c1", v) }},
		{"hangup channel", func(v string) error { return b.Hangup(ctx, mediacore.ChannelID(v), mediacore.CauseNormal) }},
		{"bridge id", func(v string) error { return b.CreateBridge(ctx, mediacore.BridgeID(v)) }},
		{"playback id", func(v string) error {
			_, err := b.Play(ctx, mediacore.ChannelTarget("c1"), mediacore.PlayRequest{ID: mediacore.PlaybackID(v), Media: []mediacore.Media{mediacore.Silence(time.Second)}})
			return err
		}},
		{"recording id", func(v string) error {
			_, err := b.Record(ctx, mediacore.ChannelTarget("c1"), mediacore.RecordRequest{ID: mediacore.RecordingID(v)})
			return err
		}},
		{"snoop spy", func(v string) error { return b.Snoop(ctx, "c1", mediacore.ChannelID(v), mediacore.SnoopListen) }},
		{"transfer id", func(v string) error { return b.AnswerTransfer(ctx, "c1", mediacore.TransferID(v), true) }},
		{"whisper target", func(v string) error {
			return b.AddToBridge(ctx, "nobr", "c1", mediacore.Member{Role: mediacore.RoleWhisper, WhisperTo: mediacore.ChannelID(v)})
		}},
	}
	names := []string{"a\"b", "a\r\nb", "a\x00b", "${X}", "a(b)", "a,b", "a&b", "a|b", "a<b>", "a\\b", "a'b", "a`b", "a\x7fb", strings.Repeat("n", 300)}
	nameOp := op{"originate caller id name", func(v string) error {
		_, err := b.Originate(ctx, mediacore.OriginateRequest{ChannelID: "o1", Endpoint: "tel/100", CallerIDName: v})
		return err
	}}
	mediaOps := []op{
		{"play file", func(v string) error {
			_, err := b.Play(ctx, mediacore.ChannelTarget("c1"), mediacore.PlayRequest{ID: "p1", Media: []mediacore.Media{mediacore.File(v)}})
			return err
		}},
		{"record name", func(v string) error {
			_, err := b.Record(ctx, mediacore.ChannelTarget("c1"), mediacore.RecordRequest{ID: "r1", Name: v + ".wav"})
			return err
		}},
		{"put media name", func(v string) error {
			return b.PutMedia(ctx, v+".wav", strings.NewReader("RIFF"))
		}},
	}
	before := len(f.requests())
	tried := 0
	check := func(o op, v string) {
		t.Helper()
		tried++
		if err := o.run(v); err == nil {
			t.Errorf("%s: %q accepted", o.field, v)
		}
		if reqs := f.requests(); len(reqs) != before {
			t.Errorf("%s: %q reached ARI: %v", o.field, v, reqs[before:])
			before = len(reqs)
		}
	}
	for _, o := range ops {
		vals := bad
		if strings.HasSuffix(o.field, "value") {
			vals = values
		}
		if strings.HasPrefix(o.field, "originate endpoint") {
			vals = append(vals, "")
		}
		for _, v := range vals {
			check(o, v)
		}
	}
	for _, v := range names {
		check(nameOp, v)
	}
	for _, o := range mediaOps {
		for _, v := range append(media, common...) {
			check(o, v)
		}
	}
	t.Logf("%d injection attempts, all refused before ARI", tried)
}
