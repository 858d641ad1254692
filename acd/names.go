package acd

import "fmt"

// The enumerations marshal to and from their names, so that configuration
// (YAML, JSON) and the event log carry "longest-idle" or "wrap-up" rather
// than numbers. Unknown names are rejected with ErrInvalidConfig.

func parseName(names []string, text []byte, what string) (int, error) {
	for i, n := range names {
		if n == string(text) && (n != "" || len(text) == 0) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown %s %q", ErrInvalidConfig, what, text)
}

// MarshalText implements encoding.TextMarshaler.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *State) UnmarshalText(b []byte) error {
	i, err := parseName(stateNames[:], b, "state")
	*s = State(i)
	return err
}

// MarshalText implements encoding.TextMarshaler.
func (k BusyKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *BusyKind) UnmarshalText(b []byte) error {
	i, err := parseName(busyNames[:], b, "busy kind")
	*k = BusyKind(i)
	return err
}

// MarshalText implements encoding.TextMarshaler.
func (k OriginKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *OriginKind) UnmarshalText(b []byte) error {
	i, err := parseName(originNames[:], b, "origin")
	*k = OriginKind(i)
	return err
}

// MarshalText implements encoding.TextMarshaler.
func (s Strategy) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Strategy) UnmarshalText(b []byte) error {
	i, err := parseName(strategyNames[:], b, "strategy")
	*s = Strategy(i)
	return err
}

// MarshalText implements encoding.TextMarshaler.
func (k TargetKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *TargetKind) UnmarshalText(b []byte) error {
	i, err := parseName(targetNames[:], b, "overflow target")
	*k = TargetKind(i)
	return err
}

// MarshalText implements encoding.TextMarshaler.
func (p EmptyPolicy) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *EmptyPolicy) UnmarshalText(b []byte) error {
	i, err := parseName(emptyPolicyNames[:], b, "empty policy")
	*p = EmptyPolicy(i)
	return err
}

// MarshalText implements encoding.TextMarshaler.
func (k CallKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *CallKind) UnmarshalText(b []byte) error {
	i, err := parseName(callKindNames[:], b, "call kind")
	*k = CallKind(i)
	return err
}

// MarshalText implements encoding.TextMarshaler.
func (k EventKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler. The empty name (the
// zero kind) is rejected.
func (k *EventKind) UnmarshalText(b []byte) error {
	i, err := parseName(eventNames[1:], b, "event kind")
	*k = EventKind(i + 1)
	if err != nil {
		*k = 0
	}
	return err
}
