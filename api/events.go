package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"hotline/controller/cti"
	"hotline/controller/store"
)

// The CTI stream: GET /api/v1/events upgrades to a WebSocket (RFC 6455,
// github.com/gobwas/ws) and sends every event the principal may see as one
// text message, the cti.Event JSON with its seq. The token comes as a
// Bearer header or, for browsers (which cannot set headers on a
// WebSocket), as ?token=. ?since=N replays the retained events after seq
// N (or a gap event saying what was lost) before the live ones. An agent
// sees its own events, a supervisor its team's, an admin all
// (cti.ForPrincipal). The server pings an idle socket every WSPingInterval
// and drops a peer it has not heard from in twice that. A slow reader
// never blocks the hub: its subscription falls behind and catches up from
// the retained events, with a gap event when it fell out of the window.
// Messages from the client are read (for control frames) and ignored.

// defaultWSPing is Options.WSPingInterval's default.
const defaultWSPing = 30 * time.Second

// wsWriteTimeout bounds one message write: a peer that does not read is
// dropped rather than holding a goroutine.
const wsWriteTimeout = 10 * time.Second

// lockedWriter serializes frame writes of the event loop and of the
// control frame handler (pongs, close) on one connection; mu guards w and
// buf.
type lockedWriter struct {
	mu sync.Mutex
	c  net.Conn
	// buf holds one frame, header and payload, so that it goes out in one
	// write: one system call, and one wake-up of the reader on loopback,
	// instead of two. At 1,000 subscribers the second write per event was
	// ~40% of the fan-out's CPU (BENCHMARKS "Issue 9").
	buf bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.c.SetWriteDeadline(time.Now().Add(wsWriteTimeout))
	return l.c.Write(p)
}

// writeFrame writes one unfragmented server frame (never masked, RFC 6455
// §5.1) holding p, in one locked write.
func (l *lockedWriter) writeFrame(op ws.OpCode, p []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Reset()
	if err := ws.WriteHeader(&l.buf, ws.Header{Fin: true, OpCode: op, Length: int64(len(p))}); err != nil {
		return err
	}
	l.buf.Write(p)
	_ = l.c.SetWriteDeadline(time.Now().Add(wsWriteTimeout))
	_, err := l.c.Write(l.buf.Bytes())
	return err
}

func (s *Server) handleEvents(c *gin.Context) {
	if s.live == nil || s.live.Events() == nil {
		s.abortWith(c, errLiveUnavailable("the CTI stream is not running on this node"))
		return
	}
	var since uint64 = cti.Live
	if v := c.Query("since"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			s.abortWith(c, invalidValue("since", "must be the seq of the last event received"))
			return
		}
		since = n
	}
	p, _ := principalOf(c)
	var teams []string
	if p.User.Team != "" {
		teams = []string{p.User.Team}
	}
	sub, err := s.live.Events().Subscribe(cti.ForPrincipal(string(p.User.Role), p.User.AgentID, teams), since)
	if err != nil {
		s.abortWith(c, errLiveUnavailable("the CTI stream is closed"))
		return
	}
	defer sub.Close()
	conn, rw, _, err := ws.UpgradeHTTP(c.Request, c.Writer)
	if err != nil {
		// The upgrader already answered (400/426...) on the hijacked
		// connection.
		s.log.InfoContext(c.Request.Context(), "websocket upgrade refused", "request_id", requestID(c), "err", err)
		return
	}
	defer conn.Close()
	s.serveEvents(context.WithoutCancel(c.Request.Context()), conn, rw.Reader, sub, p.User.Username)
}

// serveEvents runs one socket: a reader goroutine for the client's frames
// (control frames answered, liveness noted) and this goroutine writing
// events and pings.
func (s *Server) serveEvents(ctx context.Context, conn net.Conn, br io.Reader, sub *cti.Subscription, user string) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := &lockedWriter{c: conn}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer cancel()
		// The control handler writes a frame's header and payload in
		// separate writes: it writes into a buffer, sent in one locked
		// write, so an event frame never lands between the two.
		ctl := func(h ws.Header, r io.Reader) error {
			var buf bytes.Buffer
			err := wsutil.ControlFrameHandler(&buf, ws.StateServerSide)(h, r)
			if buf.Len() > 0 {
				if _, werr := w.Write(buf.Bytes()); err == nil {
					err = werr
				}
			}
			return err
		}
		rd := &wsutil.Reader{Source: br, State: ws.StateServerSide, CheckUTF8: true, OnIntermediate: ctl}
		for {
			// Any frame, a pong included, proves the peer alive.
			_ = conn.SetReadDeadline(time.Now().Add(2 * s.wsPing))
			h, err := rd.NextFrame()
			if err != nil {
				return
			}
			if h.OpCode.IsControl() {
				if err := ctl(h, rd); err != nil {
					return // a close frame (answered) or a protocol error
				}
				continue
			}
			if err := rd.Discard(); err != nil {
				return
			}
		}
	}()
	events := make(chan cti.Event)
	go func() {
		defer close(events)
		for {
			ev, err := sub.Next(ctx)
			if err != nil {
				return
			}
			select {
			case events <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	ping := time.NewTicker(s.wsPing)
	defer ping.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				// The hub closed (shutdown): say so and end.
				_ = w.writeFrame(ws.OpClose, ws.NewCloseFrameBody(ws.StatusGoingAway, "event stream closed"))
				cancel()
				<-readDone
				return
			}
			data, err := json.Marshal(ev)
			if err == nil {
				err = w.writeFrame(ws.OpText, data)
			}
			if err != nil {
				cancel()
				_ = conn.Close()
				<-readDone
				if !errors.Is(err, net.ErrClosed) {
					s.log.InfoContext(ctx, "CTI socket closed", "user", user, "err", err)
				}
				return
			}
		case <-ping.C:
			if err := w.writeFrame(ws.OpPing, nil); err != nil {
				cancel()
				_ = conn.Close()
				<-readDone
				return
			}
		case <-ctx.Done():
			_ = conn.Close()
			<-readDone
			return
		}
	}
}

// eventsRoute is the CTI stream's route.
func (s *Server) eventsRoute() route {
	return route{method: http.MethodGet, path: "/api/v1/events",
		summary: "CTI event stream (WebSocket; token as Bearer header or ?token=; ?since=N replays what was missed)",
		tag:     "live", access: rolesOf(store.RoleAdmin, store.RoleSupervisor, store.RoleAgent), tokenInQuery: true,
		query: []param{
			{name: "since", in: "query", desc: "seq of the last event received: replays the retained ones after it, or a gap event", schema: map[string]any{"type": "integer", "minimum": 0}},
			{name: "token", in: "query", desc: "the bearer token, for clients that cannot send headers", schema: map[string]any{"type": "string"}},
		},
		respKind: respNone, status: http.StatusSwitchingProtocols, handler: s.handleEvents}
}
