package web_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/config"
	"spanrec/firmware/control"
	"spanrec/firmware/daemon"
	"spanrec/firmware/engine"
	"spanrec/firmware/engine/enginetest"
	"spanrec/firmware/index"
	"spanrec/firmware/users"
	"spanrec/firmware/web"
)

// repoRoot is the repository's root (for its testdata).
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// The test accounts, one per role.
var accounts = map[users.Role][2]string{
	users.Admin:      {"ann", "admin-password-1"},
	users.Technician: {"tom", "technician-pw-2"},
	users.Auditor:    {"aud", "auditor-pw-3"},
}

// calls is the live-call side of the daemon (control.Daemon): one call
// that Pause and Resume act on, recording who asked.
type calls struct {
	mu      sync.Mutex
	paused  bool
	sources []string
}

func (c *calls) Status() control.Status {
	return control.Status{Version: "test", ActiveCalls: 1, Faults: []string{"no SIP seen"}}
}

func (c *calls) Calls() []control.Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return []control.Call{{ID: "live1", CallID: "abc@pbx", Caller: "1001", Callee: "1002", State: "answered", Codec: "PCMU", Paused: c.paused}}
}

func (c *calls) act(id, source string, pause bool) error {
	if id != "live1" && id != control.AllCalls {
		return engine.ErrNoSuchCall
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.paused = pause
	c.sources = append(c.sources, source)
	return nil
}

func (c *calls) Pause(id, source string) error  { return c.act(id, source, true) }
func (c *calls) Resume(id, source string) error { return c.act(id, source, false) }

func (c *calls) pauseSources() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.sources...)
}

// env is a web UI over the sample capture's recording (and a quarantined
// copy of its index entry), served over TLS on 127.0.0.1.
type env struct {
	dir         string
	configFile  string
	backend     *daemon.ConsoleBackend
	ix          *index.Index
	calls       *calls
	rec         index.Call // the sample call
	paused      index.Call // pausedCapture's, when asked for
	quarantined index.Call
	base        string // https://127.0.0.1:PORT
	pool        *x509.CertPool
}

// pausedCapture writes a capture of a generated call (the sample's
// audio both ways, a day before the sample call) that the caller pauses
// with *1 after 2 s and resumes with *1 at 5 s (SIP INFO).
func pausedCapture(t *testing.T) string {
	t.Helper()
	audio, err := os.ReadFile(filepath.Join(repoRoot(), "testdata", "sample_caller.ulaw"))
	if err != nil {
		t.Fatal(err)
	}
	callee, err := os.ReadFile(filepath.Join(repoRoot(), "testdata", "sample_callee.ulaw"))
	if err != nil {
		t.Fatal(err)
	}
	o := simcall.Options{}
	r := simcall.Generate(simcall.Call{CallerAudio: audio, CalleeAudio: callee, Talk: 8 * time.Second,
		Start: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC),
		DTMF:  []simcall.Press{{At: 2 * time.Second, Digits: "*1", Mode: simcall.SIPInfo}, {At: 5 * time.Second, Digits: "*1", Mode: simcall.SIPInfo}}}, o)
	path := filepath.Join(t.TempDir(), "paused.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := capture.NewPcapWriter(f, o.Frame.LinkType())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.WriteTo(w, o); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return path
}

// newEnv serves the sample recording (with the extra captures'
// recordings: see paused).
func newEnv(t *testing.T, now func() time.Time, extra ...string) *env {
	t.Helper()
	dir, ix := enginetest.ImportSample(t, extra...)
	cfgFile := filepath.Join(dir, "spanrec.yaml")
	if err := os.WriteFile(cfgFile, []byte("# the test's configuration\ncalls:\n  media_timeout: 30s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := daemon.NewConsoleBackend(daemon.BackendConfig{DataDir: dir, Index: ix,
		Reload: func() error { _, err := config.Load(cfgFile); return err }, // what the daemon's SIGHUP reads
		ConsoleOptions: daemon.ConsoleOptions{Users: users.Options{Cost: bcrypt.MinCost},
			ConfigFile: cfgFile, LoadConfig: func() (config.Config, error) { return config.Load(cfgFile) }}})
	for _, role := range users.Roles() { // the admin first
		a := accounts[role]
		if err := b.Accounts.Add(a[0], role, a[1]); err != nil {
			t.Fatal(err)
		}
	}
	list, err := b.Recordings.Search(users.Admin, index.Query{})
	if err != nil || len(list) != 1+len(extra) {
		t.Fatalf("sample recordings: %v %v", list, err)
	}
	e := &env{dir: dir, configFile: cfgFile, backend: b, ix: ix, calls: &calls{}}
	for _, c := range list {
		if len(c.Pauses) > 0 {
			e.paused = c
		} else {
			e.rec = c
		}
	}
	q := e.rec
	q.ID, q.CallID, q.Caller, q.Quarantined = index.NewID(q.Start), "quarantined@test", "7777", true
	if err := ix.Put(&q); err != nil {
		t.Fatal(err)
	}
	e.quarantined = q

	wo := b.WebOptions(e.calls)
	wo.Now = now
	s, err := web.New(wo)
	if err != nil {
		t.Fatal(err)
	}
	cert, created, err := web.Certificate(web.Config{}, dir, time.Now())
	if err != nil || !created {
		t.Fatalf("certificate: created %v, %v", created, err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	e.pool = x509.NewCertPool()
	e.pool.AddCert(leaf)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.base = "https://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, cert) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return e
}

// client is a browser-like HTTPS client with a cookie jar that does not
// follow redirects (the tests look at them).
func (e *env) client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar:           jar,
		Timeout:       time.Minute,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.pool, ServerName: "localhost"}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// do sends a request; origin "" sends none.
func (e *env) do(t *testing.T, c *http.Client, method, path, origin string, form url.Values, hdr ...string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	return resp, string(b)
}

// login logs c in as role's account and returns the session cookie's
// response.
func (e *env) login(t *testing.T, c *http.Client, role users.Role) *http.Response {
	t.Helper()
	a := accounts[role]
	resp, body := e.do(t, c, "POST", "/login", e.base, url.Values{"name": {a[0]}, "password": {a[1]}, "next": {"/"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: %s %s", a[0], resp.Status, body)
	}
	return resp
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// csrf returns the CSRF token of c's session, from a page's form.
func (e *env) csrf(t *testing.T, c *http.Client) string {
	t.Helper()
	_, body := e.do(t, c, "GET", "/status", "", nil)
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf token in %s", body)
	}
	return m[1]
}

// account reads an account from the users file.
func (e *env) account(name string) (users.User, error) { return e.backend.Accounts.Get(name) }
