// Package freeswitch will implement the hotline/mediacore Backend over
// FreeSWITCH's event socket (ESL, github.com/percipia/eslgo), for telcos
// that already run FreeSWITCH. See ../shared/DEPENDENCIES.md for the eslgo
// defects it must design around (out-of-order events, reply matching,
// missing reconnect).
//
// It may import hotline/mediacore only, never the controller.
//
// Nothing is built here yet: the FreeSWITCH adapter issue builds it.
package freeswitch
