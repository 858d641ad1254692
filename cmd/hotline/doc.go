// Command hotline is the Hotline daemon and its admin commands:
//
//	hotline serve    (the default) runs the API, the controller and the media core
//	hotline migrate  applies the database migrations and exits
//	hotline version  prints the version
//
// Configuration comes from a YAML file (--config), overridden by HOTLINE_*
// environment variables, overridden by flags; every default is in
// defaultConfig. Unknown keys in the file are an error.
//
// It is the top of the import graph: it may import every hotline package;
// nothing imports it.
package main
