package control

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// FuzzHandler: any request gets a well-formed answer (never a panic); the
// errors of the API's own routes are JSON objects.
func FuzzHandler(f *testing.F) {
	f.Add("GET", "/v1/status", "")
	f.Add("GET", "/v1/calls", "")
	f.Add("POST", "/v1/calls/c1/pause?source=console:alice", "")
	f.Add("POST", "/v1/calls/all/resume", "")
	f.Add("POST", "/v1/calls/nope/pause?source=a&source=b", "x")
	f.Add("POST", "/v1/calls/%ff%00/pause?source=%1b", "")
	f.Fuzz(func(t *testing.T, method, target, body string) {
		fuzzRequest(t, newFake().services(), method, target, body)
	})
}

// fuzzRequest checks the answer to one request: JSON with a known status
// (the mux's own "page not found" and redirects aside), never a panic.
func fuzzRequest(t *testing.T, s Services, method, target, body string) {
	if !validMethod(method) {
		return
	}
	u, err := url.ParseRequestURI(target)
	if err != nil || !strings.HasPrefix(u.Path, "/") {
		return
	}
	req, err := http.NewRequest(method, "http://x"+u.RequestURI(), strings.NewReader(body))
	if err != nil {
		return
	}
	rec := httptest.NewRecorder()
	NewHandler(s, Options{}).ServeHTTP(rec, asRoot(req))
	switch rec.Code {
	case 200, 400, 401, 403, 404, 409, 423, 500, 501:
		if rec.Header().Get("Content-Type") != "application/json" {
			if rec.Code == 404 && !actionRE.MatchString(req.URL.Path) {
				return // the mux's own "page not found"
			}
			t.Fatalf("%s %s: %d without JSON: %q", method, target, rec.Code, rec.Body.String())
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: invalid JSON %q", method, target, rec.Body.String())
		}
	case 405, 301, 307, 308:
	default:
		t.Fatalf("%s %s: status %d %q", method, target, rec.Code, rec.Body.String())
	}
}

var actionRE = regexp.MustCompile(`^/v1/calls/[^/]+/(pause|resume)$`)

func validMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodHead:
		return true
	}
	return false
}
