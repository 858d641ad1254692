package registrar_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/emiago/sipgo"

	"hotline/internal/sipdigest"
	"hotline/mediacore/native/registrar"
)

// How the native core mounts the registrar, sweeps it, and routes to phones.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The controller backs Credentials with its store of HA1s; a fixed map
	// serves here.
	creds := registrar.NewStaticCredentials("hotline", map[string]string{"1001": "secret"})
	reg, err := registrar.New(creds,
		registrar.WithRealm("hotline"),
		registrar.WithLogger(slog.New(slog.DiscardHandler)),
		// Fleets of MD5-only phones that choke on a SHA-256 challenge
		// (SIPp 3.6, baresip 1.0) need sipdigest.WithAlgorithms(sipdigest.MD5).
		registrar.WithDigestOptions(sipdigest.WithNonceTTL(5*time.Minute)),
	)
	if err != nil {
		panic(err)
	}
	reg.OnChange(func(e registrar.Event) {
		// Hand off to a mailbox; never block here.
		fmt.Println(e.Kind, e.User, e.Contact.URI, e.Reason)
	})

	ua, _ := sipgo.NewUA()
	srv, _ := sipgo.NewServer(ua)
	srv.OnRegister(reg.HandleRegister)
	// A deployment listens on port 5060; the example takes a free one.
	go func() { _ = srv.ListenAndServe(ctx, "udp", "127.0.0.1:0") }()

	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				reg.Sweep(now)
			}
		}
	}()

	// Routing a call for user/1001: no phone has registered yet.
	contacts := reg.Lookup("1001")
	for _, c := range contacts {
		fmt.Println("ring", c.URI, "via", c.Transport, c.Source)
	}
	fmt.Println("contacts of 1001:", len(contacts))
	// Output: contacts of 1001: 0
}
