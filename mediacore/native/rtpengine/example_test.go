package rtpengine_test

import (
	"fmt"
	"log/slog"
	"net/netip"
	"os"

	"hotline/mediacore/audio"
	"hotline/mediacore/native/rtpengine"
)

// Example shows what the SIP layer does for an inbound call bridged to an
// agent: one leg per SDP negotiation, a bridge, a stereo recording.
func Example() {
	eng, err := rtpengine.New(rtpengine.Config{
		IP:      netip.MustParseAddr("127.0.0.1"),
		PortMin: 30000, PortMax: 30999,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()

	onEvent := func(ev rtpengine.LegEvent) {
		switch ev := ev.(type) {
		case rtpengine.DTMF:
			fmt.Println("digit", string(ev.Digit))
		case rtpengine.MediaTimeout:
			fmt.Println("no RTP for", ev.Silence) // hang up the call
		}
	}
	caller, err := eng.NewLeg("caller", onEvent)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer caller.Close()
	// caller.LocalAddr() goes into our SDP answer; the offer gave us:
	_ = caller.SetRemote(netip.MustParseAddrPort("127.0.0.1:40000"), audio.PCMU, 0, 101)

	agent, _ := eng.NewLeg("agent", onEvent)
	defer agent.Close()
	_ = agent.SetRemote(netip.MustParseAddrPort("127.0.0.1:40002"), audio.PCMA, 8, 101)

	br := eng.NewBridge("call-1")
	defer br.Close()
	_ = br.Add(caller, rtpengine.Speak, nil) // first member: left channel
	_ = br.Add(agent, rtpengine.Speak, nil)

	f, _ := os.CreateTemp("", "call-*.wav")
	defer os.Remove(f.Name())
	defer f.Close()
	rec, _ := br.Record(f, true)
	rec.Pause() // card number being read out: silence in the file
	rec.Resume()
	d, err := rec.Stop() // fsyncs f
	fmt.Println(d >= 0, err)
	// Output: true <nil>
}
