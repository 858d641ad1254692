package native_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hotline/mediacore"
	"hotline/mediacore/native"
	"hotline/mediacore/native/registrar"
)

// Example wires the native backend under a Core the way the controller
// does: every inbound call is answered, greeted by TTS and hung up after
// the first digit.
func Example() {
	// A deployment listens on a fixed port with a persistent media dir
	// ("/var/lib/hotline/media"); the example picks a free port and a
	// scratch dir so that it runs anywhere.
	media, err := os.MkdirTemp("", "hotline-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(media)
	be, err := native.New(native.Config{
		Listen:   "127.0.0.1:0",
		MediaDir: media,
		Trunks: []native.Trunk{
			{Name: "carrier-a", Address: "192.0.2.10:5060", Priority: 1},
			{Name: "carrier-b", Address: "198.51.100.7:5060", Priority: 2},
		},
		Credentials: registrar.NewStaticCredentials(registrar.DefaultRealm, map[string]string{"1001": "secret"}),
		Logger:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	var core *mediacore.Core
	core, err = mediacore.New(be, mediacore.Options{
		Registerer: prometheus.NewRegistry(),
		// One goroutine per channel calls this, in order for that channel.
		Handler: func(ev mediacore.Event) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			switch ev.Type {
			case mediacore.EventChannelCreated:
				if ev.Direction == mediacore.Inbound && core.Answer(ctx, ev.Channel) == nil {
					_, _ = core.Play(ctx, mediacore.ChannelTarget(ev.Channel), mediacore.PlayRequest{
						Media: []mediacore.Media{mediacore.TTS("en", "Welcome to Hotline. Press any key.")},
					})
				}
			case mediacore.EventDTMF:
				_ = core.Hangup(ctx, ev.Channel, mediacore.CauseNormal)
			}
		},
	})
	if err != nil {
		panic(err)
	}
	if err := core.Start(context.Background()); err != nil {
		panic(err)
	}
	defer core.Close()
	fmt.Println("listening on a port:", be.Addr().Port() != 0)
	// Output: listening on a port: true
}
