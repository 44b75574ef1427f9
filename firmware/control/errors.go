package control

import (
	"errors"
	"net/http"

	"spanrec/firmware/engine"
	"spanrec/firmware/index"
	"spanrec/firmware/users"
)

// Errors of the control API itself. The conditions of the services have
// their homes in the packages that own them (engine.ErrNoSuchCall,
// index.ErrNotFound, users.ErrNotFound, users.ErrBadCredentials, ...):
// the server answers each with its status and a code (wireErrors), and
// the Client's errors match the same error with errors.Is.
var (
	// ErrBadRequest: the request is malformed (HTTP 400). A service may
	// return it (wrapped) too, e.g. for a call that cannot be paused.
	ErrBadRequest = errors.New("bad request")
	// ErrNotConfigured: the daemon has no such facility configured, e.g.
	// no offload target, no LEDs, no configuration file (HTTP 501). A
	// service the server was not given answers it for all its routes.
	ErrNotConfigured = errors.New("not configured")
	// ErrConflict: the change conflicts with the current state, e.g. the
	// recording is deleted already or still being written (HTTP 409).
	ErrConflict = errors.New("conflict")
	// ErrThrottled: too many failed logins from this local user in a row;
	// try again later (HTTP 429; the message says when).
	ErrThrottled = errors.New("too many failed logins")
	// ErrForbidden: the caller's role does not allow the request (HTTP
	// 403); the message names who the server took the caller for and what
	// was refused.
	ErrForbidden = errors.New("permission denied")
)

// wireError is how an error condition crosses the wire: its HTTP status
// and, for a condition more specific than its status, a code.
type wireError struct {
	err    error
	status int
	code   string
}

// wireErrors is the one table of the error conditions the server answers
// and the Client's errors match: the first that matches an error decides
// its answer. A condition with a code is matched by it; the others (the
// classes: bad request, conflict, ...) by the status alone.
var wireErrors = [...]wireError{
	{users.ErrNoSession, http.StatusUnauthorized, codeNoSession},
	{users.ErrBadCredentials, http.StatusUnauthorized, ""},
	{engine.ErrNoSuchCall, http.StatusNotFound, "no_such_call"},
	{index.ErrNotFound, http.StatusNotFound, "no_such_recording"},
	{users.ErrNotFound, http.StatusNotFound, "no_such_user"},
	{users.ErrExists, http.StatusConflict, "user_exists"},
	{users.ErrLastAdmin, http.StatusConflict, "last_admin"},
	{ErrConflict, http.StatusConflict, ""},
	{users.ErrInvalid, http.StatusBadRequest, "invalid_account"},
	{index.ErrInvalid, http.StatusBadRequest, "invalid_recording"},
	{ErrBadRequest, http.StatusBadRequest, ""},
	{ErrForbidden, http.StatusForbidden, ""},
	{ErrThrottled, http.StatusTooManyRequests, ""},
	{ErrNotConfigured, http.StatusNotImplemented, ""},
}

// codeNoSession is errorBody.Code of a request whose session is not
// live: the client's error matches users.ErrNoSession.
const codeNoSession = "no_session"

// HTTPStatus returns the status that answers err: its condition's
// (wireErrors), 500 for an error of no known condition. The web UI
// answers with it too.
func HTTPStatus(err error) int {
	code, _ := answerOf(err)
	return code
}

// answerOf returns the status and code that answer err (500 and no code
// for an error of no known condition).
func answerOf(err error) (int, string) {
	for _, we := range wireErrors {
		if errors.Is(err, we.err) {
			return we.status, we.code
		}
	}
	return http.StatusInternalServerError, ""
}

// APIError is an error response of the daemon. It matches, with
// errors.Is, the error condition the daemon answered (see wireErrors):
// engine.ErrNoSuchCall, index.ErrNotFound, users.ErrNotFound,
// users.ErrNoSession, users.ErrBadCredentials (a 401 answer to a login),
// ... by its code, and the classes ErrBadRequest (400), ErrForbidden
// (403), ErrConflict (409), ErrThrottled (429) and ErrNotConfigured
// (501) by its status.
type APIError struct {
	StatusCode int    // HTTP status
	Message    string // the daemon's message
	Code       string // the daemon's error code, if any
}

// Error returns the daemon's message.
func (e *APIError) Error() string { return e.Message }

// Is reports whether e is the answer to target's condition.
func (e *APIError) Is(target error) bool {
	for _, we := range wireErrors {
		if we.err != target {
			continue
		}
		switch {
		case we.code != "":
			return e.Code == we.code
		case we.status == http.StatusUnauthorized:
			return e.StatusCode == we.status && e.Code != codeNoSession
		}
		return e.StatusCode == we.status
	}
	return false
}
