// Package ivr will own IVR flow graphs (R2): their JSON form, validation, and
// execution against a call through a small interface the controller
// provides (play, collect digits, look up data, transfer).
//
// It must not import a media backend, net/http or a database driver.
//
// Nothing is built here yet: the IVR issue builds it.
package ivr
