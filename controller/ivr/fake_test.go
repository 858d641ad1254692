package ivr

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// answer is what the fake session returns to one PlayAndCollect.
type answer struct {
	digits string
	err    error
}

// key is an answer of digits; timeout is no key at all; hangup hangs up.
func key(d string) answer { return answer{digits: d} }

var (
	timeout = answer{}
	hangup  = answer{err: ErrHangup}
)

// fakeSession is a scripted caller: each PlayAndCollect takes the next
// answer (and hangs up when there is none left); it records every prompt
// list and collect spec.
type fakeSession struct {
	script  []answer
	played  [][]Media // every prompt list, Play and PlayAndCollect alike
	ops     []string  // "play" or "collect", in order
	specs   []CollectSpec
	playErr error // returned by Play when set
}

func (s *fakeSession) Play(ctx context.Context, prompts []Media) error {
	s.played = append(s.played, prompts)
	s.ops = append(s.ops, "play")
	if s.playErr != nil {
		return s.playErr
	}
	return ctx.Err()
}

func (s *fakeSession) PlayAndCollect(ctx context.Context, prompts []Media, spec CollectSpec) (string, error) {
	s.played = append(s.played, prompts)
	s.ops = append(s.ops, "collect")
	s.specs = append(s.specs, spec)
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if len(s.script) == 0 {
		return "", fmt.Errorf("script exhausted: %w", ErrHangup)
	}
	a := s.script[0]
	s.script = s.script[1:]
	return a.digits, a.err
}

// texts returns the TTS texts of one prompt list.
func texts(ms []Media) []string {
	var out []string
	for _, m := range ms {
		switch m.Kind {
		case MediaTTS:
			out = append(out, m.Voice+":"+m.Text)
		case MediaFile:
			out = append(out, "file:"+m.File)
		case MediaTone:
			out = append(out, fmt.Sprintf("tone:%s:%v", m.Tone, m.Duration))
		}
	}
	return out
}

// fakeLookup answers http nodes from a function and records requests.
type fakeLookup struct {
	mu   sync.Mutex
	reqs []lookupReq
	fn   func(ctx context.Context, method, url string, body []byte) (int, []byte, error)
}

type lookupReq struct {
	method, url, body string
	timeout           time.Duration
}

func (l *fakeLookup) Lookup(ctx context.Context, method, url string, body []byte, timeout time.Duration) (int, []byte, error) {
	l.mu.Lock()
	l.reqs = append(l.reqs, lookupReq{method, url, string(body), timeout})
	l.mu.Unlock()
	return l.fn(ctx, method, url, body)
}

func answerJSON(status int, body string) *fakeLookup {
	return &fakeLookup{fn: func(context.Context, string, string, []byte) (int, []byte, error) {
		return status, []byte(body), nil
	}}
}

// fakeSchedules maps names to states; an unknown name is an error.
type fakeSchedules map[string]ScheduleState

func (s fakeSchedules) ScheduleState(_ context.Context, name string) (ScheduleState, error) {
	st, ok := s[name]
	if !ok {
		return "", errors.New("no such schedule")
	}
	return st, nil
}

// fakeLists maps list names to numbers; the list "broken" fails.
type fakeLists map[string][]string

func (l fakeLists) InList(_ context.Context, list, number string) (bool, error) {
	if list == "broken" {
		return false, errors.New("list store down")
	}
	return slices.Contains(l[list], number), nil
}

// pathOf returns "node=outcome" for each step.
func pathOf(r Result) []string {
	var out []string
	for _, s := range r.Path {
		out = append(out, s.Node+"="+s.Outcome)
	}
	return out
}
