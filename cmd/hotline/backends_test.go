package main

import (
	"io"
	"slices"
	"testing"

	"hotline/mediacore"
)

// TestMixedMediaNodesLoad: the daemon links every backend, so a
// configuration listing a native, a FreeSWITCH and an Asterisk node (one
// ACD across all backends) loads, and each node's backend is built from
// its own config keys.
func TestMixedMediaNodesLoad(t *testing.T) {
	for _, kind := range []string{"native", "freeswitch", "asterisk"} {
		if !slices.Contains(mediacore.Backends(), kind) {
			t.Errorf("backend %q is not linked into the daemon (have %v)", kind, mediacore.Backends())
		}
	}
	file := writeFile(t, `media_nodes:
  - name: edge
    kind: native
    config: {listen: "127.0.0.1:0"}
  - name: fs1
    kind: freeswitch
    config: {address: "127.0.0.1:8021", password: "esl-test-pw"}
  - name: ast1
    kind: asterisk
    config: {url: "http://127.0.0.1:8088/ari", user: hotline, password: ari-test-pw}
`)
	c, err := loadConfig([]string{"--config", file, "--data", t.TempDir()}, envMap(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	nodes := mediaNodes(c)
	if len(nodes) != 3 {
		t.Fatalf("%d nodes", len(nodes))
	}
	for _, n := range nodes {
		dec, err := decoder(c, n)
		if err != nil {
			t.Fatal(err)
		}
		b, err := mediacore.Open(n.Kind, mediacore.FactoryOptions{Decode: dec, Node: n.Name})
		if err != nil {
			t.Errorf("node %s (%s): %v", n.Name, n.Kind, err)
			continue
		}
		if b.Name() != n.Kind {
			t.Errorf("node %s: backend %q", n.Name, b.Name())
		}
		if err := b.Close(); err != nil {
			t.Errorf("close %s: %v", n.Name, err)
		}
	}
}
