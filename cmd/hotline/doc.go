// Command hotline is the Hotline daemon and its admin commands:
//
//	hotline serve    (the default) runs the API, the controller and the media core
//	hotline migrate  applies the database migrations and exits
//	hotline sim      drives a running Hotline with simulated agents and callers
//	                 and reconciles its reports with the ground truth
//	hotline version  prints the version
//
// Configuration comes from a YAML file (--config), overridden by HOTLINE_*
// environment variables, overridden by flags; every default is in
// defaultConfig. Unknown keys in the file are an error.
//
// serve opens the store, builds the media node(s) through the mediacore
// backend registry (media_nodes, or one native node from the sip/rtp
// settings; the native package is linked in for its registration), starts
// the controller over the store and the media core, and serves the API
// over the controller: cmd -> api -> controller -> {store, acd, mediacore}.
// The bootstrap token and the demo seed are written through the
// controller too.
//
// It is the top of the import graph: it may import every hotline package;
// nothing imports it.
package main
