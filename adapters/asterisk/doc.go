// Package asterisk will implement the hotline/mediacore Backend over
// Asterisk's REST interface (ARI, github.com/CyCoreSystems/ari/v6), for
// telcos that already run Asterisk.
//
// It may import hotline/mediacore only, never the controller.
//
// Nothing is built here yet: the Asterisk adapter issue builds it.
package asterisk
