package control

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of ConnLimits.
const (
	DefaultMaxConns    = 32
	DefaultIdleTimeout = 30 * time.Second
)

// ConnLimits bounds the control socket's connections, so that clients that
// connect and send nothing (or half a request) cannot hold the daemon's
// descriptors: at most MaxConns are open at once; a connection that is not
// in a request is closed after IdleTimeout (5 s for the first request's
// headers), and when the limit is reached the longest-waiting such
// connection is closed for the new one. A new connection is refused only
// when every open one is in a request. Counters are safe for concurrent
// use.
type ConnLimits struct {
	MaxConns    int           // default 32
	IdleTimeout time.Duration // default 30 s

	mu      sync.Mutex
	conns   map[net.Conn]connState
	evicted atomic.Uint64
	refused atomic.Uint64
}

type connState struct {
	active bool // in a request
	since  time.Time
}

// ConnStats are the control socket's connection counters.
type ConnStats struct {
	Open    int    // connections open now
	Evicted uint64 // waiting connections closed for a new one at the limit
	Refused uint64 // connections refused: every open one was in a request
}

// NewConnLimits returns limits of max connections and idle timeout (zero:
// the defaults).
func NewConnLimits(max int, idle time.Duration) *ConnLimits {
	if max <= 0 {
		max = DefaultMaxConns
	}
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	return &ConnLimits{MaxConns: max, IdleTimeout: idle, conns: map[net.Conn]connState{}}
}

// Stats returns the counters.
func (l *ConnLimits) Stats() ConnStats {
	l.mu.Lock()
	n := len(l.conns)
	l.mu.Unlock()
	return ConnStats{Open: n, Evicted: l.evicted.Load(), Refused: l.refused.Load()}
}

// listener wraps ln so that its connections stay within l.
func (l *ConnLimits) listener(ln net.Listener) net.Listener {
	return &limitListener{Listener: ln, l: l}
}

type limitListener struct {
	net.Listener
	l *ConnLimits
}

func (ll *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := ll.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if ll.l.admit(c) {
			return c, nil
		}
		c.Close()
	}
}

// admit registers c, closing the longest-waiting connection not in a
// request when the limit is reached; false when c is refused.
func (l *ConnLimits) admit(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.conns) >= l.MaxConns {
		var victim net.Conn
		var since time.Time
		for o, st := range l.conns {
			if !st.active && (victim == nil || st.since.Before(since)) {
				victim, since = o, st.since
			}
		}
		if victim == nil {
			l.refused.Add(1)
			return false
		}
		delete(l.conns, victim)
		victim.Close()
		l.evicted.Add(1)
	}
	l.conns[c] = connState{since: time.Now()}
	return true
}

// track follows the server's connection states (http.Server.ConnState).
func (l *ConnLimits) track(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.conns[c]; !ok {
		return // closed for another already
	}
	switch s {
	case http.StateClosed, http.StateHijacked:
		delete(l.conns, c)
	case http.StateActive:
		l.conns[c] = connState{active: true, since: time.Now()}
	default:
		l.conns[c] = connState{since: time.Now()}
	}
}
