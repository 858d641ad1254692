package freeswitch

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/percipia/eslgo/command"
)

// maxFrame bounds one ESL frame's headers and body: a larger frame is
// malformed (the connection is closed and redialled).
const (
	maxHeaderLines = 512
	maxHeaderLine  = 64 << 10
	maxBody        = 8 << 20
)

// frame is one message of the event socket: "Key: value" header lines, a
// blank line, then Content-Length bytes of body.
type frame struct {
	header map[string]string
	body   []byte
}

func (f *frame) get(k string) string { return f.header[k] }

// readFrame reads one frame. Any deviation from the wire format (a line
// without a colon, a bad or huge Content-Length, too many lines) is
// errMalformed: unlike eslgo, which keeps a connection whose framing is
// lost, the caller closes it.
func readFrame(r *bufio.Reader) (*frame, error) {
	f := &frame{header: map[string]string{}}
	lines := 0
	for {
		line, err := readLine(r)
		if err != nil {
			return nil, err
		}
		if line == "" {
			if lines == 0 {
				continue // stray blank lines between frames
			}
			break
		}
		lines++
		if lines > maxHeaderLines {
			return nil, fmt.Errorf("%w: too many header lines", errMalformed)
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" {
			return nil, fmt.Errorf("%w: header line %q", errMalformed, truncate(line))
		}
		f.header[k] = strings.TrimSpace(v)
	}
	if cl, ok := f.header["Content-Length"]; ok {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 || n > maxBody {
			return nil, fmt.Errorf("%w: Content-Length %q", errMalformed, cl)
		}
		f.body = make([]byte, n)
		if _, err := io.ReadFull(r, f.body); err != nil {
			return nil, err
		}
	}
	if f.header["Content-Type"] == "" {
		return nil, fmt.Errorf("%w: frame without Content-Type", errMalformed)
	}
	return f, nil
}

func readLine(r *bufio.Reader) (string, error) {
	var buf []byte
	for {
		chunk, isPrefix, err := r.ReadLine()
		if err != nil {
			return "", err
		}
		buf = append(buf, chunk...)
		if len(buf) > maxHeaderLine {
			return "", fmt.Errorf("%w: header line too long", errMalformed)
		}
		if !isPrefix {
			return string(buf), nil
		}
	}
}

func truncate(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// event is one parsed text/event-plain body: URL-encoded headers, then an
// optional body (e.g. a BACKGROUND_JOB's result).
type event struct {
	h    map[string]string
	body string
}

func (e *event) get(k string) string { return e.h[k] }

func (e *event) name() string {
	if n := e.h["Event-Name"]; n == "CUSTOM" {
		return "CUSTOM " + e.h["Event-Subclass"]
	}
	return e.h["Event-Name"]
}

// seq is the switch's Event-Sequence (0 when absent or bad).
func (e *event) seq() uint64 {
	n, _ := strconv.ParseUint(e.h["Event-Sequence"], 10, 64)
	return n
}

// parseEvent decodes a plain event body.
func parseEvent(b []byte) (*event, error) {
	ev := &event{h: map[string]string{}}
	head, rest, _ := bytes.Cut(b, []byte("\n\n"))
	for _, line := range bytes.Split(head, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			continue
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(k) == 0 {
			return nil, fmt.Errorf("%w: event header %q", errMalformed, truncate(string(line)))
		}
		val := strings.TrimSpace(string(v))
		if dec, err := url.QueryUnescape(val); err == nil {
			val = dec
		}
		ev.h[string(k)] = val
	}
	if ev.h["Event-Name"] == "" {
		return nil, fmt.Errorf("%w: event without Event-Name", errMalformed)
	}
	if cl := ev.h["Content-Length"]; cl != "" {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 || n > len(rest) {
			return nil, fmt.Errorf("%w: event Content-Length %q", errMalformed, cl)
		}
		ev.body = string(rest[:n])
	}
	return ev, nil
}

// conn is one authenticated inbound event-socket connection. One reader
// goroutine reads frames in wire order: replies go to the one command in
// flight (commands are serialized by cmdMu, so a reply can never be handed
// to the wrong caller as eslgo does), events go to onEvent in the order the
// switch sent them. Any error, timeout or malformed frame closes the
// connection; the Backend redials.
type conn struct {
	nc      net.Conn
	onEvent func(*event)
	onClose func(error)

	cmdMu   sync.Mutex // one command in flight
	replies chan *frame

	closeOnce sync.Once
	done      chan struct{}
	errMu     sync.Mutex
	err       error
}

// dialESL connects, authenticates with password and subscribes to events.
func dialESL(ctx context.Context, addr, password string, events []string, timeout time.Duration, onEvent func(*event), onClose func(error)) (*conn, error) {
	d := net.Dialer{Timeout: timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	r := bufio.NewReaderSize(nc, 64<<10)
	_ = nc.SetReadDeadline(time.Now().Add(timeout))
	f, err := readFrame(r)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("freeswitch: greeting: %w", err)
	}
	if f.get("Content-Type") != "auth/request" {
		nc.Close()
		return nil, fmt.Errorf("%w: greeting %q", errMalformed, f.get("Content-Type"))
	}
	if err := writeCmd(nc, command.Auth{Password: password}.BuildMessage(), timeout); err != nil {
		nc.Close()
		return nil, err
	}
	f, err = readFrame(r)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("freeswitch: auth: %w", err)
	}
	if !strings.HasPrefix(f.get("Reply-Text"), "+OK") {
		nc.Close()
		return nil, fmt.Errorf("%w: %s", errAuth, f.get("Reply-Text"))
	}
	_ = nc.SetReadDeadline(time.Time{})
	c := &conn{nc: nc, onEvent: onEvent, onClose: onClose, replies: make(chan *frame, 1), done: make(chan struct{})}
	go c.readLoop(r)
	if _, err := c.send(ctx, command.Event{Format: "plain", Listen: events}.BuildMessage(), timeout); err != nil {
		c.close(err)
		return nil, err
	}
	return c, nil
}

func writeCmd(nc net.Conn, msg string, timeout time.Duration) error {
	_ = nc.SetWriteDeadline(time.Now().Add(timeout))
	_, err := io.WriteString(nc, msg+"\n\n")
	return err
}

func (c *conn) readLoop(r *bufio.Reader) {
	for {
		f, err := readFrame(r)
		if err != nil {
			c.close(err)
			return
		}
		switch f.get("Content-Type") {
		case "text/event-plain":
			ev, err := parseEvent(f.body)
			if err != nil {
				c.close(err)
				return
			}
			c.onEvent(ev)
		case "command/reply", "api/response":
			select {
			case c.replies <- f:
			default:
				// A reply nobody waits for: framing between commands and
				// replies is lost.
				c.close(fmt.Errorf("%w: unexpected reply", errMalformed))
				return
			}
		case "text/disconnect-notice", "text/rude-rejection":
			c.close(io.EOF)
			return
		default:
			// Other content types (log/data) are not subscribed: ignore.
		}
	}
}

func (c *conn) close(err error) {
	c.closeOnce.Do(func() {
		c.errMu.Lock()
		c.err = err
		c.errMu.Unlock()
		close(c.done)
		c.nc.Close()
		if c.onClose != nil {
			c.onClose(err)
		}
	})
}

// send writes one command and waits for its reply, at most timeout (and
// ctx). A command that gets no reply in time closes the connection: the
// late reply would otherwise answer the next command.
func (c *conn) send(ctx context.Context, msg string, timeout time.Duration) (*frame, error) {
	c.cmdMu.Lock()
	defer c.cmdMu.Unlock()
	select {
	case <-c.done:
		return nil, errConnClosed
	default:
	}
	if err := writeCmd(c.nc, msg, timeout); err != nil {
		c.close(err)
		return nil, errConnClosed
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case f := <-c.replies:
		return f, nil
	case <-c.done:
		return nil, errConnClosed
	case <-t.C:
		c.close(errCmdTimeout)
		return nil, errCmdTimeout
	case <-ctx.Done():
		// The reply is still due: the connection cannot be trusted.
		c.close(ctx.Err())
		return nil, ctx.Err()
	}
}

func (c *conn) errValue() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	return c.err
}
