package asterisk

import "errors"

// ErrConfig is a configuration the adapter refuses.
var ErrConfig = errors.New("asterisk: bad configuration")

// ErrInsecureRemote is a plain-HTTP ARI URL to a non-loopback host without
// allow_insecure_remote: the ARI password would travel in clear.
var ErrInsecureRemote = errors.New("asterisk: insecure remote ARI refused")
