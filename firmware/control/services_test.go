package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"spanrec/firmware/engine"
	"spanrec/firmware/index"
	"spanrec/firmware/users"
)

// fakeConsole is every service over fakeDaemon, with canned answers.
type fakeConsole struct {
	*fakeDaemon
	mu    sync.Mutex
	audit []index.AuditEntry
	added []string
}

func newFakeConsole() *fakeConsole { return &fakeConsole{fakeDaemon: newFake()} }

func (f *fakeDaemon) services() Services { return Services{Daemon: f} }

func (f *fakeConsole) services() Services {
	return Services{Daemon: f.fakeDaemon, Recordings: fakeRecordings{}, Accounts: fakeAccounts{f}, Settings: f,
		Appliance: f, LEDs: f, Log: f, Offload: f, Audit: f}
}

var fakeRec = index.Call{ID: "20261125T144422Z-3fa2c1d0", Caller: "1001", Callee: "2002", Recorded: true, File: "recordings/x.wav"}

type fakeRecordings struct{}

func (fakeRecordings) Search(viewer users.Role, q index.Query) ([]index.Call, error) {
	if q.Matches(&fakeRec) {
		return []index.Call{fakeRec}, nil
	}
	return nil, nil
}
func (fakeRecordings) Get(viewer users.Role, id string) (index.Call, error) {
	if id != fakeRec.ID {
		return index.Call{}, fmt.Errorf("index: get %s: %w", id, index.ErrNotFound)
	}
	return fakeRec, nil
}
func (fakeRecordings) Verify(ctx context.Context, viewer users.Role, id string) (Verification, error) {
	return Verification{ID: id, Checked: 1, Valid: true}, nil
}
func (fakeRecordings) Delete(id, by string) error {
	return fmt.Errorf("delete %w", ErrNotConfigured)
}

func (f *fakeConsole) Config() (ConfigInfo, error) {
	return ConfigInfo{File: "/etc/spanrec.yaml", YAML: "a: 1\n"}, nil
}
func (f *fakeConsole) SetConfig(key, value string) (ConfigChange, error) {
	if key == "bad" {
		return ConfigChange{}, fmt.Errorf("%w: no such key", ErrBadRequest)
	}
	return ConfigChange{Key: key, Value: value, Applied: true}, nil
}
func (f *fakeConsole) Storage() (StorageInfo, error) { return StorageInfo{Recordings: 3}, nil }
func (f *fakeConsole) Tail(n int) []string           { return []string{"a", "b"}[:min(n, 2)] }
func (f *fakeConsole) LEDTest(ctx context.Context) error {
	return fmt.Errorf("LEDs: %w", ErrNotConfigured)
}
func (f *fakeConsole) Time() TimeInfo                        { return TimeInfo{Now: time.Unix(0, 0).UTC(), Zone: "UTC"} }
func (f *fakeConsole) Reboot() error                         { return errors.New("reboot: permission denied") }
func (f *fakeConsole) OffloadNow() error                     { return fmt.Errorf("offload %w", ErrNotConfigured) }
func (f *fakeConsole) OffloadStatus() (OffloadStatus, error) { return OffloadStatus{Pending: 2}, nil }
func (f *fakeConsole) AppendAudit(e index.AuditEntry) (index.AuditEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.audit = append(f.audit, e)
	return e, nil
}
func (f *fakeConsole) AuditTail(n int) ([]index.AuditEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]index.AuditEntry(nil), f.audit...), nil
}

// fakeAccounts has one account, bob (technician), and refuses changes.
type fakeAccounts struct{ f *fakeConsole }

func (fakeAccounts) Len() int           { return 1 }
func (fakeAccounts) List() []users.User { return nil }
func (fakeAccounts) Remove(name string) error {
	return fmt.Errorf("%w: last admin", users.ErrLastAdmin)
}
func (fakeAccounts) SetPassword(name, password string) error { return nil }
func (fakeAccounts) SetRole(name string, role users.Role) error {
	_, err := users.ParseRole(string(role))
	return err
}
func (fakeAccounts) Unlock(name string) error { return fmt.Errorf("%w: %s", users.ErrNotFound, name) }
func (fakeAccounts) Authenticate(name, password string) (users.User, error) {
	switch {
	case name != "bob":
		return users.User{}, &users.LoginFailure{Reason: "no such account"}
	case password != "right-password":
		return users.User{}, &users.LoginFailure{Reason: "wrong password (1 in a row)"}
	}
	return users.User{Name: name, Role: users.Technician}, nil
}
func (fakeAccounts) Get(name string) (users.User, error) {
	if name != "bob" {
		return users.User{}, users.ErrNotFound
	}
	return users.User{Name: name, Role: users.Technician}, nil
}
func (a fakeAccounts) Add(name string, role users.Role, password string) error {
	a.f.mu.Lock()
	defer a.f.mu.Unlock()
	a.f.added = append(a.f.added, name+" "+string(role)+" "+password)
	return nil
}

func TestConsoleClientErrors(t *testing.T) {
	f := newFakeConsole()
	path, _ := start(t, f)
	c := Dial(path)
	defer c.Close()
	ctx := context.Background()

	if u, err := c.Login(ctx, "bob", "right-password"); err != nil || u.User.Role != users.Technician || len(u.Token) != 2*users.TokenBytes {
		t.Fatalf("login: %+v %v", u, err)
	}
	if _, err := c.Login(ctx, "bob", "wrong"); !errors.Is(err, users.ErrBadCredentials) || err.Error() != "login incorrect" {
		t.Fatalf("bad password: %v", err)
	}
	if _, err := c.Login(ctx, "nobody", "x"); !errors.Is(err, users.ErrBadCredentials) || err.Error() != "login incorrect" {
		t.Fatalf("unknown name: %v", err)
	}
	if _, err := c.Recording(ctx, "nope"); !errors.Is(err, index.ErrNotFound) {
		t.Fatalf("unknown recording: %v", err)
	}
	if err := c.OffloadNow(ctx); !errors.Is(err, ErrNotConfigured) || err.Error() != "offload not configured" {
		t.Fatalf("offload: %v", err)
	}
	if err := c.RemoveUser(ctx, "alice"); !errors.Is(err, ErrConflict) {
		t.Fatalf("last admin: %v", err)
	}
	if err := c.Unlock(ctx, "zed"); !errors.Is(err, users.ErrNotFound) {
		t.Fatalf("unlock unknown: %v", err)
	}
	if err := c.SetRole(ctx, "bob", "root"); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("bad role: %v", err)
	}
	if _, err := c.SetConfig(ctx, "bad", "1"); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("bad config: %v", err)
	}
	if err := c.Reboot(ctx); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("reboot: %v", err)
	}
	if err := c.AddUser(ctx, "eve", users.Auditor, "pass word!"); err != nil {
		t.Fatal(err)
	}
	if list, err := c.Recordings(ctx, index.Query{Text: "2002"}); err != nil || len(list) != 1 {
		t.Fatalf("recordings: %v %v", list, err)
	}
	if list, err := c.Recordings(ctx, index.Query{Text: "zzz"}); err != nil || list == nil || len(list) != 0 {
		t.Fatalf("no recordings: %v %v", list, err)
	}
	if err := c.Pause(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if err := c.Pause(ctx, "nope"); !errors.Is(err, engine.ErrNoSuchCall) {
		t.Fatal(err)
	}

	// Every change is audited with the authenticated peer (root, here) as
	// the user, never a password; a login's failure with its true reason.
	es, _ := c.Audit(ctx, 0)
	var got []string
	for _, e := range es {
		got = append(got, e.User+"|"+e.Command+"|"+e.Result)
	}
	want := []string{
		"uid:0|login bob|ok",
		"uid:0|login bob|refused: wrong password (1 in a row)",
		"uid:0|login nobody|refused: no such account",
		"uid:0|offload now|offload not configured",
		"uid:0|users del alice|at least one admin account is needed: last admin",
		"uid:0|users unlock zed|no such user: zed",
		"uid:0|users role bob root|invalid: unknown role \"root\" (admin, technician or auditor)",
		"uid:0|config set bad 1|bad request: no such key",
		"uid:0|reboot|requested",
		"uid:0|reboot|reboot: permission denied",
		"uid:0|users add eve auditor|ok",
		"uid:0|pause c1|ok",
		"uid:0|pause nope|no such call: nope",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, e := range es {
		if strings.Contains(e.Command, "pass word") {
			t.Fatalf("password in the audit log: %+v", e)
		}
	}
}

func TestConsoleSecretConfigNotAudited(t *testing.T) {
	f := newFakeConsole()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/v1/config", strings.NewReader(`{"key":"offload.password","value":"hunter22"}`))
	NewHandler(f.services(), Options{}).ServeHTTP(rec, asRoot(req))
	if rec.Code != 200 || strings.Contains(rec.Body.String(), "hunter22") {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
	if len(f.audit) != 1 || strings.Contains(f.audit[0].Command, "hunter22") {
		t.Fatalf("audit: %+v", f.audit)
	}
}

func TestMissingServiceNotImplemented(t *testing.T) {
	// Services the server was not given answer 501 on their routes, and
	// only there.
	for target, code := range map[string]int{
		"GET /v1/recordings": http.StatusNotImplemented,
		"POST /v1/users":     http.StatusNotImplemented,
		"GET /v1/audit":      http.StatusNotImplemented,
		"GET /v1/offload":    http.StatusNotImplemented,
		"GET /v1/calls":      http.StatusOK,
		"GET /v1/whoami":     http.StatusOK,
	} {
		method, path, _ := strings.Cut(target, " ")
		body := strings.NewReader("")
		if method == "POST" {
			body = strings.NewReader(`{"name":"eve","role":"auditor","password":"x"}`)
		}
		rec := httptest.NewRecorder()
		NewHandler(newFake().services(), Options{}).ServeHTTP(rec, asRoot(httptest.NewRequest(method, path, body)))
		if rec.Code != code || !json.Valid(rec.Body.Bytes()) {
			t.Errorf("%s: %d %s, want %d", target, rec.Code, rec.Body.String(), code)
		}
	}
	s := newFakeConsole().services()
	s.Offload = nil
	rec := httptest.NewRecorder()
	NewHandler(s, Options{}).ServeHTTP(rec, asRoot(httptest.NewRequest("POST", "/v1/offload/now", nil)))
	if rec.Code != http.StatusNotImplemented || !strings.Contains(rec.Body.String(), "offload not configured") {
		t.Fatalf("no offloader: %d %s", rec.Code, rec.Body.String())
	}
	if es, _ := s.Audit.AuditTail(0); len(es) != 1 || es[0].Command != "offload now" || es[0].Result != "offload not configured" {
		t.Fatalf("audit: %+v", es)
	}
}

func TestConsoleEndpointQueries(t *testing.T) {
	for target, code := range map[string]int{
		"/v1/recordings?limit=-1":     400,
		"/v1/recordings?limit=x":      400,
		"/v1/recordings?all=maybe":    400,
		"/v1/recordings?q=a&q=b":      400,
		"/v1/recordings?nope=1":       400,
		"/v1/recordings?q=%1b%5b2J":   400,
		"/v1/recordings/%00/verify":   400,
		"/v1/log?n=100000":            400,
		"/v1/time?x=1":                400,
		"/v1/recordings?q=1001&all=1": 200,
		"/v1/recordings/all/verify":   200,
		"/v1/offload":                 200,
	} {
		rec := httptest.NewRecorder()
		u, _ := url.ParseRequestURI(target)
		NewHandler(newFakeConsole().services(), Options{}).ServeHTTP(rec, asRoot(httptest.NewRequest("GET", u.RequestURI(), nil)))
		if rec.Code != code || !json.Valid(rec.Body.Bytes()) {
			t.Errorf("%s: %d %s, want %d", target, rec.Code, rec.Body.String(), code)
		}
	}
}

// FuzzConsoleHandler: any request to the console endpoints gets a JSON
// answer with a known status, never a panic.
func FuzzConsoleHandler(f *testing.F) {
	f.Add("GET", "/v1/recordings?q=1001&limit=5&all=1", "")
	f.Add("GET", "/v1/recordings/x/verify", "")
	f.Add("POST", "/v1/config", `{"key":"calls.max_calls","value":"5"}`)
	f.Add("POST", "/v1/login", `{"name":"bob","password":"right-password"}`)
	f.Add("POST", "/v1/users?source=a", `{"name":"eve","role":"auditor","password":"x"}{}`)
	f.Add("DELETE", "/v1/users/alice?source=console:alice", "")
	f.Add("POST", "/v1/users/bob/role", `{"role":"root","extra":1}`)
	f.Add("POST", "/v1/reboot?source=x", "body")
	f.Add("GET", "/v1/log?n=3", "")
	f.Add("GET", "/v1/audit?n=0", "")
	f.Fuzz(func(t *testing.T, method, target, body string) {
		fuzzRequest(t, newFakeConsole().services(), method, target, body)
	})
}

// Each error condition has one definition, in the package that owns it:
// the client's error matches that one, by the code the server answers,
// and not another of the same status.
func TestErrorConditionsCrossTheWire(t *testing.T) {
	path, _ := start(t, newFakeConsole())
	c := Dial(path)
	defer c.Close()
	ctx := context.Background()
	conditions := []error{engine.ErrNoSuchCall, index.ErrNotFound, users.ErrNotFound}
	for _, tc := range []struct {
		what string
		err  error
		want error
	}{
		{"pause", c.Pause(ctx, "nope"), engine.ErrNoSuchCall},
		{"recording", func() error { _, err := c.Recording(ctx, "nope"); return err }(), index.ErrNotFound},
		{"unlock", c.Unlock(ctx, "zed"), users.ErrNotFound},
	} {
		for _, cond := range conditions {
			if errors.Is(tc.err, cond) != (cond == tc.want) {
				t.Errorf("%s: %v matches %v: %v", tc.what, tc.err, cond, errors.Is(tc.err, cond))
			}
		}
		if HTTPStatus(tc.want) != http.StatusNotFound || tc.err.(*APIError).StatusCode != http.StatusNotFound {
			t.Errorf("%s: %v is not a 404", tc.what, tc.err)
		}
	}
	// The classes match by status: a role the store refuses is a bad
	// request.
	if err := c.SetRole(ctx, "bob", "root"); !errors.Is(err, ErrBadRequest) || errors.Is(err, index.ErrInvalid) {
		t.Fatalf("bad role: %v", err)
	}
}
