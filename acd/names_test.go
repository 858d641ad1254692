package acd

import (
	"encoding"
	"encoding/json"
	"errors"
	"testing"
)

type textEnum interface {
	encoding.TextMarshaler
	String() string
}

// Every name of every enumeration round-trips, and unknown names fail.
func TestEnumNamesRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		n      int
		value  func(i int) textEnum
		decode func(b []byte) (textEnum, error)
	}{
		{"state", len(stateNames), func(i int) textEnum { return State(i) },
			func(b []byte) (textEnum, error) { var v State; err := v.UnmarshalText(b); return v, err }},
		{"busy", len(busyNames), func(i int) textEnum { return BusyKind(i) },
			func(b []byte) (textEnum, error) { var v BusyKind; err := v.UnmarshalText(b); return v, err }},
		{"origin", len(originNames), func(i int) textEnum { return OriginKind(i) },
			func(b []byte) (textEnum, error) { var v OriginKind; err := v.UnmarshalText(b); return v, err }},
		{"strategy", int(numStrategies), func(i int) textEnum { return Strategy(i) },
			func(b []byte) (textEnum, error) { var v Strategy; err := v.UnmarshalText(b); return v, err }},
		{"target", int(numTargets), func(i int) textEnum { return TargetKind(i) },
			func(b []byte) (textEnum, error) { var v TargetKind; err := v.UnmarshalText(b); return v, err }},
		{"empty", int(numEmptyPolicies), func(i int) textEnum { return EmptyPolicy(i) },
			func(b []byte) (textEnum, error) { var v EmptyPolicy; err := v.UnmarshalText(b); return v, err }},
		{"call kind", len(callKindNames), func(i int) textEnum { return CallKind(i) },
			func(b []byte) (textEnum, error) { var v CallKind; err := v.UnmarshalText(b); return v, err }},
		{"event", len(eventNames) - 1, func(i int) textEnum { return EventKind(i + 1) },
			func(b []byte) (textEnum, error) { var v EventKind; err := v.UnmarshalText(b); return v, err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range tt.n {
				v := tt.value(i)
				b, err := v.MarshalText()
				if err != nil {
					t.Fatal(err)
				}
				got, err := tt.decode(b)
				if err != nil || got != v {
					t.Fatalf("%q decodes to %v, %v; want %v", b, got, err, v)
				}
			}
			if _, err := tt.decode([]byte("no-such-name")); !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("unknown name: err = %v", err)
			}
		})
	}
}

func TestQueueConfigFromJSON(t *testing.T) {
	var cfg QueueConfig
	err := json.Unmarshal([]byte(`{"ID":"sales","Strategy":"round-robin","JoinEmpty":"no-logged-in",
		"OnMaxWait":{"Kind":"voicemail","Dest":"vm1"}}`), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Strategy != StrategyRoundRobin || cfg.JoinEmpty != EmptyNoLoggedIn || cfg.OnMaxWait.Kind != TargetVoicemail {
		t.Fatalf("cfg %+v", cfg)
	}
	if err := json.Unmarshal([]byte(`{"Strategy":"fastest"}`), &cfg); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("bad strategy: err = %v", err)
	}
	if s, ok := ParseStrategy("ring-all"); !ok || s != StrategyRingAll {
		t.Fatalf("ParseStrategy = %v %v", s, ok)
	}
}

// FuzzStrategyText: parsing any text either fails cleanly or yields a
// strategy whose name parses back to itself.
func FuzzStrategyText(f *testing.F) {
	for _, n := range strategyNames {
		f.Add(n)
	}
	f.Add("")
	f.Add("ring-all\x00")
	f.Fuzz(func(t *testing.T, s string) {
		var v Strategy
		if err := v.UnmarshalText([]byte(s)); err != nil {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("err %v", err)
			}
			return
		}
		if v >= numStrategies || v.String() != s {
			t.Fatalf("%q -> %v", s, v)
		}
	})
}
