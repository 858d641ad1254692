package mediafake_test

import (
	"context"
	"fmt"
	"time"

	"hotline/internal/clock"
	"hotline/mediacore"
	"hotline/mediacore/mediafake"
)

// A controller test drives a Core over a Fake on a virtual clock: the
// agent's phone answers after three seconds of ringing, and no test waits
// three seconds.
func Example() {
	clk := clock.NewFake(time.Time{})
	f := mediafake.New(mediafake.Options{Clock: clk})
	events := make(chan mediacore.Event, 16)
	core, err := mediacore.New(f.Backend(), mediacore.Options{Clock: clk, Handler: func(ev mediacore.Event) {
		if ev.Channel != "" {
			events <- ev
		}
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	if err := core.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer core.Close()

	f.SetAnswer("user/1001", mediafake.AnswerAfter(3*time.Second))
	if _, err := core.Originate(ctx, mediacore.OriginateRequest{ChannelID: "agent-1", Endpoint: "user/1001"}); err != nil {
		fmt.Println(err)
		return
	}
	clk.Advance(3 * time.Second)
	for range 3 {
		ev := <-events
		fmt.Println(ev.Seq, ev.Type, ev.Channel, "on", ev.Node)
	}
	// Output:
	// 1 channel_created agent-1 on fake
	// 2 ringing agent-1 on fake
	// 3 answered agent-1 on fake
}
