package mediacore

import (
	"context"
	"sync"
	"testing"
)

// BenchmarkCoreEvents measures an event's way from the backend's sink to
// the handler through a channel mailbox (100 channels, in order each).
func BenchmarkCoreEvents(b *testing.B) {
	var wg sync.WaitGroup
	f := newFake()
	c, err := New(f, Options{Handler: func(Event) { wg.Done() }})
	if err != nil {
		b.Fatal(err)
	}
	wg.Add(1) // BackendUp
	if err := c.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	chans := make([]ChannelID, 100)
	for i := range chans {
		chans[i] = ChannelID("c" + string(rune('a'+i%26)) + string(rune('a'+i/26)))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		wg.Add(1)
		f.emit(Event{Type: EventDTMF, Channel: chans[i%len(chans)], Digit: '1'})
	}
	wg.Wait()
	b.StopTimer()
	_ = c.Close()
}

func BenchmarkParseEndpoint(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		if _, err := ParseEndpoint("sip:agent-1001@10.1.2.3:5060;transport=tcp"); err != nil {
			b.Fatal(err)
		}
	}
}
