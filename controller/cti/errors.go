package cti

import "errors"

// ErrClosed is returned by Subscribe and Subscription.Next once the Hub is
// closed.
var ErrClosed = errors.New("cti: hub closed")

// ErrUnsubscribed is returned by Subscription.Next after Subscription.Close.
var ErrUnsubscribed = errors.New("cti: subscription closed")
