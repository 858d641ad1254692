package freeswitch

import (
	"context"
	"strings"
	"testing"
	"time"

	"hotline/mediacore"
)

// TestFakeRelateClearOfAGoneMember: when the switch answers a relationship
// clear with "not found" (the member left the room before its del-member
// reached the adapter, seen at 20 calls per second), adding the next
// member still succeeds: there was nothing to clear.
func TestFakeRelateClearOfAGoneMember(t *testing.T) {
	f, b, log := startFake(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, u := range []string{"c1", "c2"} {
		inboundCall(f, u)
		f.event(map[string]string{"Event-Name": "CHANNEL_ANSWER", "Unique-ID": u}, "")
	}
	log.wait(t, "both answered", func(evs []mediacore.Event) bool {
		return count(evs, isType(mediacore.EventAnswered, "c1")) == 1 && count(evs, isType(mediacore.EventAnswered, "c2")) == 1
	})
	f.set(func(f *fakeESL) { f.answers["conference br1 relate"] = "-ERR relationship 5->7 not found.\n" })
	if err := b.CreateBridge(ctx, "br1"); err != nil {
		t.Fatal(err)
	}
	join := func(uuid, member string) error {
		done := make(chan error, 1)
		go func() {
			done <- b.AddToBridge(ctx, "br1", mediacore.ChannelID(uuid), mediacore.Member{Role: mediacore.RoleSpeak})
		}()
		waitCommand(t, f, "api uuid_transfer "+uuid+" ")
		f.event(map[string]string{"Event-Name": "CUSTOM", "Event-Subclass": "conference::maintenance", "Action": "add-member",
			"Unique-ID": uuid, "Conference-Name": "br1", "Member-ID": member}, "")
		return <-done
	}
	if err := join("c1", "5"); err != nil {
		t.Fatalf("first member: %v", err)
	}
	if err := join("c2", "7"); err != nil {
		t.Fatalf("second member, its relationship clear answered not found: %v", err)
	}
	relates := 0
	for _, c := range f.commands() {
		if strings.HasPrefix(c, "api conference br1 relate ") {
			relates++
		}
	}
	if relates == 0 {
		t.Fatal("no relationship command sent: the test did not reach the case it guards")
	}
}

// waitCommand waits until the fake switch has received a command starting
// with prefix.
func waitCommand(t *testing.T, f *fakeESL, prefix string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, c := range f.commands() {
			if strings.HasPrefix(c, prefix) {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("the switch never received %q; got %q", prefix, f.commands())
}
