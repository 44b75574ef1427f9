package control

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"spanrec/firmware/users"
)

// Every endpoint has its permission in the one table, and the roles get
// what SPEC §6 gives them.
func TestRoutePermissions(t *testing.T) {
	h := &handler{}
	seen := map[string]bool{}
	for _, rt := range h.routes() {
		if rt.perm == "" || rt.handle == nil || seen[rt.pattern] {
			t.Errorf("route %q: permission %q, handler set %v, listed before %v", rt.pattern, rt.perm, rt.handle != nil, seen[rt.pattern])
		}
		seen[rt.pattern] = true
	}
	for _, tc := range []struct {
		pattern string
		allowed []users.Role
	}{
		{"GET /v1/status", []users.Role{users.Admin, users.Technician, users.Auditor}},
		{"POST /v1/calls/{id}/pause", []users.Role{users.Admin, users.Technician}},
		{"POST /v1/users", []users.Role{users.Admin}},
		{"POST /v1/users/{name}/unlock", []users.Role{users.Admin}},
		{"POST /v1/config", []users.Role{users.Admin}},
		{"GET /v1/config", []users.Role{users.Admin, users.Technician}},
		{"POST /v1/reboot", []users.Role{users.Admin, users.Technician}},
		{"GET /v1/recordings/{id}/verify", []users.Role{users.Admin, users.Auditor}},
		{"GET /v1/audit", []users.Role{users.Admin, users.Auditor}},
	} {
		perm, ok := Permission(tc.pattern)
		if !ok {
			t.Errorf("no route %q", tc.pattern)
			continue
		}
		var got []users.Role
		for _, r := range append(users.Roles(), "") {
			if users.Can(r, perm) {
				got = append(got, r)
			}
		}
		if strings.Join(rolesText(got), ",") != strings.Join(rolesText(tc.allowed), ",") {
			t.Errorf("%s (%s): roles %v, want %v", tc.pattern, perm, got, tc.allowed)
		}
	}
	for _, p := range []string{"GET /v1/login", "POST /v1/login", "POST /v1/logout", "GET /v1/whoami"} {
		if perm, _ := Permission(p); perm != public {
			t.Errorf("%s: %q, want open to every peer", p, perm)
		}
	}
}

func rolesText(rs []users.Role) []string {
	var out []string
	for _, r := range rs {
		out = append(out, string(r))
	}
	return out
}

// A request the server cannot attribute to a peer is refused, even one
// open to every peer.
func TestNoPeerNoService(t *testing.T) {
	f := newFakeConsole()
	for _, target := range []string{"/v1/status", "/v1/whoami", "/v1/login"} {
		rec := httptest.NewRecorder()
		NewHandler(f.services(), Options{}).ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "cannot tell who you are") {
			t.Errorf("%s without peer credentials: %d %s", target, rec.Code, rec.Body.String())
		}
	}
	rec := httptest.NewRecorder()
	req := asRoot(httptest.NewRequest("GET", "/v1/status", nil))
	req.Header.Set(TokenHeader, "Basic eDp5")
	NewHandler(f.services(), Options{}).ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("bad Authorization header: %d %s", rec.Code, rec.Body.String())
	}
}
