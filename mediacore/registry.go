package mediacore

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"hotline/internal/sipdigest"
)

// FactoryOptions is what Open hands to a backend's Factory.
type FactoryOptions struct {
	// Logger is the backend's logger (never nil).
	Logger *slog.Logger
	// Decode fills the backend's own config struct from the configuration
	// section for this backend (e.g. yaml.Node.Decode); nil means "no
	// section": the backend uses its defaults.
	Decode func(v any) error
	// Node is the name of the node this backend will be under the Core.
	Node string
	// Registerer receives the backend's own metrics (nil: none). Open
	// labels it with node=<Node> so several nodes of one kind can share a
	// registry.
	Registerer prometheus.Registerer
	// Services are what Hotline hands every backend.
	Services Services
}

// Services are what Hotline offers a backend when it builds it.
type Services struct {
	// Credentials answers a registrar's "what is this user's HA1?" (the
	// agents' SIP passwords, stored hashed); nil: no registrar users.
	Credentials Credentials
	// Trunks are the stored carrier trunks to start with (a backend that
	// implements TrunkConfigurer gets later changes through SetTrunks).
	Trunks []TrunkConfig
}

// Credentials looks up SIP digest HA1s (see internal/sipdigest). ok is
// false, with a nil error, for an unknown user or an algorithm without an
// HA1; an error is a store failure. It must return when ctx is done.
type Credentials interface {
	HA1(ctx context.Context, user string, alg sipdigest.Algorithm) (ha1 string, ok bool, err error)
}

// Factory builds a backend from its configuration.
type Factory func(opts FactoryOptions) (Backend, error)

// registry is the table of backends, written by Register from init
// functions and read by Open. Like database/sql's driver table it is the one
// package-level state here: a backend package registers itself when it is
// linked in. mu guards factories.
var registry = struct {
	mu        sync.RWMutex
	factories map[string]Factory
}{factories: map[string]Factory{}}

// Register makes a backend available under name. It panics when name is
// empty, f is nil, or name is already registered: each is a programmer error.
func Register(name string, f Factory) {
	if name == "" || f == nil {
		panic("mediacore: Register with empty name or nil factory")
	}
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if _, dup := registry.factories[name]; dup {
		panic("mediacore: Register called twice for backend " + name)
	}
	registry.factories[name] = f
}

// Backends returns the registered backend names, sorted.
func Backends() []string {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	names := make([]string, 0, len(registry.factories))
	for n := range registry.factories {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Open builds the backend registered under name.
func Open(name string, opts FactoryOptions) (Backend, error) {
	registry.mu.RLock()
	f := registry.factories[name]
	registry.mu.RUnlock()
	if f == nil {
		return nil, fmt.Errorf("%w: %q (registered: %v)", ErrUnknownBackend, name, Backends())
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registerer != nil && opts.Node != "" {
		opts.Registerer = prometheus.WrapRegistererWith(prometheus.Labels{"node": opts.Node}, opts.Registerer)
	}
	if opts.Decode == nil {
		opts.Decode = func(any) error { return nil }
	}
	return f(opts)
}
