package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Client limits.
const (
	// DefaultTimeout bounds a request whose ctx has no deadline.
	DefaultTimeout = 30 * time.Second
	maxResponse    = 64 << 20 // 20000 calls are a few MB of JSON
	maxErrorBody   = 64 << 10
)

// Client talks to a daemon's control socket. It is safe for concurrent
// use; it connects on each request's need (a daemon that is not running
// is reported by the request: ErrNotRunning).
type Client struct {
	path  string
	tr    *http.Transport
	hc    *http.Client
	token string // a console session's, sent with every request
}

// Dial returns a Client of the control socket at path. It does not
// connect yet.
func Dial(path string) *Client {
	return DialFunc(path, func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	})
}

// DialFunc returns a Client of the control socket at path that makes its
// connections with dial (tests connect as other users this way, see
// controltest).
func DialFunc(path string, dial func(ctx context.Context) (net.Conn, error)) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dial(ctx)
		},
		MaxIdleConns:       2,
		IdleConnTimeout:    30 * time.Second,
		DisableCompression: true,
	}
	return &Client{path: path, tr: tr, hc: &http.Client{Transport: tr, Timeout: DefaultTimeout}}
}

// WithToken returns a Client that sends the console session token with
// every request (so the daemon acts as that session's account); it shares
// c's connections. "" is no token: the daemon goes by the process's uid.
func (c *Client) WithToken(token string) *Client {
	cc := *c
	cc.token = token
	return &cc
}

// Path returns the control socket's path.
func (c *Client) Path() string { return c.path }

// Close closes the Client's idle connections.
func (c *Client) Close() { c.tr.CloseIdleConnections() }

// Status returns the daemon's state and counters.
func (c *Client) Status(ctx context.Context) (Status, error) {
	return get[Status](ctx, c, "/v1/status", nil)
}

// Calls returns the active calls.
func (c *Client) Calls(ctx context.Context) ([]Call, error) {
	return get[[]Call](ctx, c, "/v1/calls", nil)
}

// Pause stops recording the call id (AllCalls: every active call). The
// daemon records who asked: the process's uid or the session's account.
func (c *Client) Pause(ctx context.Context, id string) error {
	return c.action(ctx, id, "pause")
}

// Resume resumes recording the call id (AllCalls: every active call).
func (c *Client) Resume(ctx context.Context, id string) error {
	return c.action(ctx, id, "resume")
}

func (c *Client) action(ctx context.Context, id, verb string) error {
	if id == "" {
		id = AllCalls
	}
	var out actionBody
	return c.do(ctx, http.MethodPost, "/v1/calls/"+url.PathEscape(id)+"/"+verb, nil, &out)
}

// Whoami returns who the daemon takes this client for.
func (c *Client) Whoami(ctx context.Context) (Identity, error) {
	return get[Identity](ctx, c, "/v1/whoami", nil)
}

// get answers a GET of path with query q.
func get[T any](ctx context.Context, c *Client, path string, q url.Values) (T, error) {
	var out T
	err := c.do(ctx, http.MethodGet, path, q, &out)
	return out, err
}

// send sends a change (the JSON of in, when not nil) whose answer is
// {"ok": true}.
func (c *Client) send(ctx context.Context, method, path string, in any) error {
	return c.doBody(ctx, c.hc, method, path, nil, in, &okBody{})
}

// lastNQuery is the query of a request for the last n items (0: the
// server's default).
func lastNQuery(n int) url.Values {
	if n <= 0 {
		return nil
	}
	return url.Values{"n": {strconv.Itoa(n)}}
}

func (c *Client) do(ctx context.Context, method, path string, q url.Values, out any) error {
	return c.doBody(ctx, c.hc, method, path, q, nil, out)
}

// doBody sends a request with body (JSON of in, when not nil) over hc and
// decodes the answer into out.
func (c *Client) doBody(ctx context.Context, hc *http.Client, method, path string, q url.Values, in, out any) error {
	u := "http://spanrec" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("control: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("control: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set(TokenHeader, "Bearer "+c.token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return c.dialError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		var eb errorBody
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &eb) == nil && eb.Error != "" {
			msg = eb.Error
		}
		if msg == "" {
			msg = resp.Status
		}
		return &APIError{StatusCode: resp.StatusCode, Message: msg, Code: eb.Code}
	}
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxResponse))
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("control: %s %s: bad response: %w", method, path, err)
	}
	return nil
}

// dialError explains a failed request: most often, no daemon.
func (c *Client) dialError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w (no control socket at %s)", ErrNotRunning, c.path)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w (nothing answers on the control socket %s)", ErrNotRunning, c.path)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("control socket %s: permission denied (is this user in the socket's group?): %w", c.path, err)
	}
	return fmt.Errorf("control socket %s: %w", c.path, err)
}
