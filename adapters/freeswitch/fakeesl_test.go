package freeswitch

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
)

// fakeESL is a fake FreeSWITCH event socket speaking the real wire
// protocol: auth/request greeting, auth, "event plain", api (api/response
// with Content-Length), bgapi (command/reply with Job-UUID), sendmsg, and
// text/event-plain events with URL-encoded headers and Event-Sequence. It
// records every command it receives.
type fakeESL struct {
	t        testing.TB
	ln       net.Listener
	password string

	mu       sync.Mutex
	conns    []net.Conn
	cur      net.Conn
	cmds     []string
	seq      uint64
	hangOn   string                // an api command prefix that never gets a reply
	channels []string              // uuids "show channels" lists
	answers  map[string]string     // api command prefix -> body
	accepted chan struct{}         // one value per authenticated connection
	onBgapi  func(cmd, job string) // called after the bgapi reply
}

func newFakeESL(t testing.TB, password string) *fakeESL {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeESL{t: t, ln: ln, password: password, answers: map[string]string{}, accepted: make(chan struct{}, 16)}
	go f.accept()
	t.Cleanup(f.close)
	return f
}

func (f *fakeESL) addr() string { return f.ln.Addr().String() }

func (f *fakeESL) close() {
	f.ln.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		c.Close()
	}
}

func (f *fakeESL) accept() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		f.conns = append(f.conns, c)
		f.mu.Unlock()
		go f.serve(c)
	}
}

func (f *fakeESL) write(c net.Conn, s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, _ = c.Write([]byte(s))
}

func reply(text string) string {
	return "Content-Type: command/reply\nReply-Text: " + text + "\n\n"
}

func apiResponse(body string) string {
	return fmt.Sprintf("Content-Type: api/response\nContent-Length: %d\n\n%s", len(body), body)
}

func (f *fakeESL) serve(c net.Conn) {
	defer c.Close()
	f.write(c, "Content-Type: auth/request\n\n")
	r := bufio.NewReader(c)
	authed := false
	for {
		var lines []string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				if len(lines) == 0 {
					continue
				}
				break
			}
			lines = append(lines, line)
		}
		cmd := strings.Join(lines, "\n")
		f.mu.Lock()
		f.cmds = append(f.cmds, cmd)
		f.mu.Unlock()
		switch {
		case !authed:
			if cmd == "auth "+f.password {
				authed = true
				f.write(c, reply("+OK accepted"))
			} else {
				f.write(c, reply("-ERR invalid"))
				f.write(c, "Content-Type: text/disconnect-notice\nContent-Length: 0\n\n")
				return
			}
		case strings.HasPrefix(cmd, "event plain"):
			f.mu.Lock()
			f.cur = c
			f.mu.Unlock()
			f.write(c, reply("+OK event listener enabled plain"))
			f.accepted <- struct{}{}
		case strings.HasPrefix(cmd, "api "):
			body, hang := f.api(strings.TrimPrefix(cmd, "api "))
			if hang {
				continue
			}
			f.write(c, apiResponse(body))
		case strings.HasPrefix(cmd, "bgapi "):
			first, rest, _ := strings.Cut(cmd, "\n")
			job := strings.TrimPrefix(rest, "Job-UUID: ")
			f.write(c, reply("+OK Job-UUID: "+job))
			if f.onBgapi != nil {
				go f.onBgapi(strings.TrimPrefix(first, "bgapi "), job)
			}
		default:
			f.write(c, reply("+OK"))
		}
	}
}

func (f *fakeESL) api(cmd string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hangOn != "" && strings.HasPrefix(cmd, f.hangOn) {
		return "", true
	}
	keys := make([]string, 0, len(f.answers))
	for k := range f.answers {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) })
	for _, k := range keys {
		if strings.HasPrefix(cmd, k) {
			return f.answers[k], false
		}
	}
	switch {
	case cmd == "status":
		return "UP 0 years, 0 days\n", false
	case strings.HasPrefix(cmd, "global_getvar sounds_dir"):
		return "/fake/sounds", false
	case strings.HasPrefix(cmd, "global_getvar recordings_dir"):
		return "/fake/recordings", false
	case cmd == "show channels as json":
		if len(f.channels) == 0 {
			return `{"row_count": 0}`, false
		}
		var rows []string
		for _, u := range f.channels {
			rows = append(rows, fmt.Sprintf(`{"uuid":%q,"direction":"inbound","created_epoch":"1700000000","cid_num":"2000","dest":"100","callstate":"ACTIVE"}`, u))
		}
		return fmt.Sprintf(`{"row_count": %d, "rows": [%s]}`, len(rows), strings.Join(rows, ",")), false
	case strings.HasPrefix(cmd, "uuid_exists "):
		u := strings.TrimPrefix(cmd, "uuid_exists ")
		for _, x := range f.channels {
			if x == u {
				return "true", false
			}
		}
		return "false", false
	}
	return "+OK\n", false
}

// event sends a plain event on the current connection; Event-Sequence is
// added unless given.
func (f *fakeESL) event(h map[string]string, body string) {
	f.mu.Lock()
	c := f.cur
	if _, ok := h["Event-Sequence"]; !ok {
		f.seq++
		h["Event-Sequence"] = fmt.Sprint(f.seq)
	}
	f.mu.Unlock()
	if c == nil {
		f.t.Error("fake ESL: no subscribed connection")
		return
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for _, k := range keys {
		sb.WriteString(k + ": " + url.QueryEscape(h[k]) + "\n")
	}
	if body != "" {
		sb.WriteString(fmt.Sprintf("Content-Length: %d\n", len(body)))
	}
	sb.WriteString("\n")
	sb.WriteString(body)
	payload := sb.String()
	f.write(c, fmt.Sprintf("Content-Length: %d\nContent-Type: text/event-plain\n\n%s", len(payload), payload))
}

// raw writes bytes as they are on the current connection.
func (f *fakeESL) raw(s string) {
	f.mu.Lock()
	c := f.cur
	f.mu.Unlock()
	f.write(c, s)
}

// drop closes the current connection (a cut TCP link).
func (f *fakeESL) drop() {
	f.mu.Lock()
	c := f.cur
	f.cur = nil
	f.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

func (f *fakeESL) commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.cmds...)
}

func (f *fakeESL) set(fn func(*fakeESL)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}
