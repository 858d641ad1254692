package ivr_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"hotline/controller/ivr"
)

// caller is a scripted Session: it prints what it hears and presses keys.
type caller struct{ keys []string }

func (c *caller) hear(prompts []ivr.Media) {
	var parts []string
	for _, m := range prompts {
		if m.Kind == ivr.MediaFile {
			parts = append(parts, "file "+m.File)
		} else {
			parts = append(parts, m.Voice+" "+m.Text)
		}
	}
	fmt.Println("heard:", strings.Join(parts, " | "))
}

func (c *caller) Play(_ context.Context, prompts []ivr.Media) error {
	c.hear(prompts)
	return nil
}

func (c *caller) PlayAndCollect(_ context.Context, prompts []ivr.Media, _ ivr.CollectSpec) (string, error) {
	c.hear(prompts)
	if len(c.keys) == 0 {
		return "", ivr.ErrHangup
	}
	k := c.keys[0]
	c.keys = c.keys[1:]
	return k, nil
}

type openHours struct{}

func (openHours) ScheduleState(context.Context, string) (ivr.ScheduleState, error) {
	return ivr.StateOpen, nil
}

type noLists struct{}

func (noLists) InList(context.Context, string, string) (bool, error) { return false, nil }

type coreBanking struct{}

func (coreBanking) Lookup(_ context.Context, method, url string, _ []byte, _ time.Duration) (int, []byte, error) {
	fmt.Println(method, url)
	return 200, []byte(`{"data":{"balance":"1024.50"}}`), nil
}

// Example runs the card service flow of the package documentation: the
// caller presses 1, enters the last four digits of a card, hears the
// balance and presses 0 to reach a person.
func Example() {
	data, err := os.ReadFile("testdata/flows/good_bank.json")
	if err != nil {
		panic(err)
	}
	flow, err := ivr.Parse(data)
	if err != nil {
		panic(err)
	}
	if err := ivr.Validate(flow); err != nil {
		panic(err)
	}
	res, err := ivr.Run(context.Background(), flow, &caller{keys: []string{"1", "1234", "0"}}, ivr.Env{
		Schedules: openHours{},
		Lists:     noLists{},
		HTTP:      coreBanking{},
		Vars:      map[string]string{ivr.VarCaller: "13800138000", ivr.VarCalled: "95555"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("ended:", res.End, res.Enqueue.Queue, "version", res.Version)
	for _, s := range res.Path {
		fmt.Printf("  %s: %s\n", s.Node, s.Outcome)
	}
	// Output:
	// heard: file prompts/main.wav | en For your balance, press 1. For an agent, press 0.
	// heard: zh 请输入卡号后四位，以井号键结束。
	// GET https://core.bank.example/ivr/balance?caller=13800138000&card=1234
	// heard: zh 您的余额是1024.50元。
	// heard: file prompts/main.wav | en For your balance, press 1. For an agent, press 0.
	// ended: enqueue cards version 3
	//   hours: open
	//   vip: else
	//   main: key 1
	//   card: ok
	//   lookup: ok
	//   say_balance: played
	//   main: escape
	//   agent: enqueue
}
