package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"spanrec/firmware/index"
	"spanrec/firmware/users"
)

// Limits of the console endpoints.
const (
	maxBody       = 64 << 10
	maxKeyLen     = 128
	maxValueLen   = 4096
	maxQueryLen   = 256
	maxLogLines   = 10000
	verifyTimeout = 30 * time.Minute // write deadline of a verify response
)

// consoleHandler answers the console endpoints.
type consoleHandler struct {
	*handler
	cd ConsoleDaemon
}

// statusOf maps an error of a ConsoleDaemon to an HTTP status.
func statusOf(err error) int {
	switch {
	case errors.Is(err, users.ErrBadCredentials):
		return http.StatusUnauthorized
	case errors.Is(err, users.ErrNoSession):
		return http.StatusUnauthorized
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrNoSuchCall), errors.Is(err, users.ErrNotFound), errors.Is(err, index.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrConflict), errors.Is(err, users.ErrExists), errors.Is(err, users.ErrLastAdmin):
		return http.StatusConflict
	case errors.Is(err, ErrBadRequest), errors.Is(err, users.ErrInvalid), errors.Is(err, index.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, ErrNotConfigured):
		return http.StatusNotImplemented
	}
	return http.StatusInternalServerError
}

func (c *consoleHandler) fail(w http.ResponseWriter, what string, err error) {
	code := statusOf(err)
	if code == http.StatusInternalServerError {
		c.log.Warn("control: "+what+" failed", "err", err)
	}
	c.writeError(w, code, err.Error())
}

// params checks that the query has only the allowed keys, each at most
// once and printable, and returns it.
func (c *consoleHandler) params(w http.ResponseWriter, r *http.Request, allowed ...string) (url.Values, bool) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		c.writeError(w, http.StatusBadRequest, "bad query: "+err.Error())
		return nil, false
	}
	for k, vs := range q {
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		switch {
		case !ok:
			c.writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown query parameter %q", k))
			return nil, false
		case len(vs) > 1:
			c.writeError(w, http.StatusBadRequest, k+" given more than once")
			return nil, false
		}
		if msg := checkText(k, vs[0], maxQueryLen); msg != "" && vs[0] != "" {
			c.writeError(w, http.StatusBadRequest, msg)
			return nil, false
		}
	}
	return q, true
}

// intParam parses the query parameter name (def when absent) within
// [0, max].
func (c *consoleHandler) intParam(w http.ResponseWriter, q url.Values, name string, def, max int) (int, bool) {
	s := q.Get(name)
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > max {
		c.writeError(w, http.StatusBadRequest, fmt.Sprintf("%s must be a number from 0 to %d", name, max))
		return 0, false
	}
	return n, true
}

// who checks that a change request has no query parameters and returns
// the authenticated account it runs as (for the audit log).
func (c *consoleHandler) who(w http.ResponseWriter, r *http.Request) (string, bool) {
	if r.URL.Query().Has("source") {
		c.writeError(w, http.StatusBadRequest, noSource)
		return "", false
	}
	if _, ok := c.params(w, r); !ok {
		return "", false
	}
	return identityOf(r).Account, true
}

// body decodes the JSON request body into v (strictly: no unknown fields,
// one object, at most maxBody bytes).
func (c *consoleHandler) body(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		c.writeError(w, http.StatusBadRequest, "bad request body: "+err.Error())
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		c.writeError(w, http.StatusBadRequest, "bad request body: more than one JSON value")
		return false
	}
	return true
}

// noBody answers 400 when the request has a body.
func (c *consoleHandler) noBody(w http.ResponseWriter, r *http.Request) bool {
	if n, _ := io.ReadFull(io.LimitReader(r.Body, 1), make([]byte, 1)); n > 0 {
		c.writeError(w, http.StatusBadRequest, "no request body expected")
		return false
	}
	return true
}

// audit writes one audit entry; a failure is logged (the change is done).
func (c *consoleHandler) audit(user, command string, err error) {
	result := "ok"
	if err != nil {
		result = err.Error()
	}
	c.auditResult(user, command, result)
}

// auditResult writes one audit entry with its result text.
func (c *consoleHandler) auditResult(user, command, result string) {
	if aerr := c.cd.AppendAudit(index.AuditEntry{User: user, Command: command, Result: result}); aerr != nil {
		c.log.Error("control: cannot write the audit log", "user", user, "command", command, "err", aerr)
	}
}

// change runs a change, audits it and answers.
func (c *consoleHandler) change(w http.ResponseWriter, source, command string, fn func() (any, error)) {
	out, err := fn()
	c.audit(source, command, err)
	if err != nil {
		c.fail(w, command, err)
		return
	}
	c.log.Info("control: "+command, "who", source)
	if out == nil {
		out = okBody{OK: true}
	}
	c.writeJSON(w, http.StatusOK, out)
}

func (c *consoleHandler) recordings(w http.ResponseWriter, r *http.Request) {
	q, ok := c.params(w, r, "q", "limit", "all")
	if !ok {
		return
	}
	limit, ok := c.intParam(w, q, "limit", DefaultRecordingsLimit, MaxRecordingsLimit)
	if !ok {
		return
	}
	if limit == 0 {
		limit = DefaultRecordingsLimit
	}
	all := q.Get("all")
	if all != "" && all != "1" && all != "true" {
		c.writeError(w, http.StatusBadRequest, "all must be 1 or true")
		return
	}
	list, err := c.cd.Recordings(RecordingQuery{Text: q.Get("q"), Limit: limit, All: all != ""})
	if err != nil {
		c.fail(w, "recordings", err)
		return
	}
	if list == nil {
		list = []index.Call{}
	}
	c.writeJSON(w, http.StatusOK, list)
}

func (c *consoleHandler) id(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if msg := checkText("recording id", id, maxIDLen); msg != "" {
		c.writeError(w, http.StatusBadRequest, msg)
		return "", false
	}
	return id, c.noQuery(w, r)
}

func (c *consoleHandler) recording(w http.ResponseWriter, r *http.Request) {
	id, ok := c.id(w, r)
	if !ok {
		return
	}
	call, err := c.cd.Recording(id)
	if err != nil {
		c.fail(w, "recording", err)
		return
	}
	c.writeJSON(w, http.StatusOK, call)
}

// deleteRecording deletes one recording. The index writes the audit entry
// of a deletion in the same transaction as the deletion (its proof names
// it); only a refused one is audited here.
func (c *consoleHandler) deleteRecording(w http.ResponseWriter, r *http.Request) {
	source, ok := c.who(w, r)
	if !ok || !c.noBody(w, r) {
		return
	}
	id, ok := c.id(w, r)
	if !ok {
		return
	}
	if err := c.cd.DeleteRecording(id, source); err != nil {
		c.audit(source, "recordings delete "+id, err)
		c.fail(w, "delete recording", err)
		return
	}
	c.log.Warn("control: recording deleted", "id", id, "who", source)
	c.writeJSON(w, http.StatusOK, okBody{OK: true})
}

func (c *consoleHandler) verify(w http.ResponseWriter, r *http.Request) {
	id, ok := c.id(w, r)
	if !ok {
		return
	}
	// Checking every recording can take longer than the server's write
	// timeout.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(verifyTimeout))
	v, err := c.cd.Verify(r.Context(), id)
	if err != nil {
		c.fail(w, "verify", err)
		return
	}
	if v.Problems == nil {
		v.Problems = []string{}
	}
	c.writeJSON(w, http.StatusOK, v)
}

func (c *consoleHandler) config(w http.ResponseWriter, r *http.Request) {
	if !c.noQuery(w, r) {
		return
	}
	ci, err := c.cd.Config()
	if err != nil {
		c.fail(w, "config", err)
		return
	}
	c.writeJSON(w, http.StatusOK, ci)
}

// secretKey reports whether a configuration key's value must stay out of
// the audit log and the daemon's log.
func secretKey(key string) bool {
	k := foldASCII(key)
	for _, s := range []string{"pass", "secret", "token", "credential", "private"} {
		if containsFold(k, s) {
			return true
		}
	}
	return false
}

func (c *consoleHandler) setConfig(w http.ResponseWriter, r *http.Request) {
	source, ok := c.who(w, r)
	if !ok {
		return
	}
	var b configSetBody
	if !c.body(w, r, &b) {
		return
	}
	if msg := checkText("key", b.Key, maxKeyLen); msg != "" {
		c.writeError(w, http.StatusBadRequest, msg)
		return
	}
	if msg := checkText("value", b.Value, maxValueLen); msg != "" {
		c.writeError(w, http.StatusBadRequest, msg)
		return
	}
	shown := b.Value
	if secretKey(b.Key) {
		shown = "********"
	}
	c.change(w, source, "config set "+b.Key+" "+shown, func() (any, error) {
		ch, err := c.cd.SetConfig(b.Key, b.Value)
		if err != nil {
			return nil, err
		}
		if secretKey(b.Key) {
			ch.Value = shown
		}
		return ch, nil
	})
}

func (c *consoleHandler) storage(w http.ResponseWriter, r *http.Request) {
	if !c.noQuery(w, r) {
		return
	}
	s, err := c.cd.Storage()
	if err != nil {
		c.fail(w, "storage", err)
		return
	}
	c.writeJSON(w, http.StatusOK, s)
}

func (c *consoleHandler) logTail(w http.ResponseWriter, r *http.Request) {
	if lines, ok := lastN(c, w, r, "log", DefaultLogLines, maxLogLines, c.cd.LogTail); ok {
		c.writeJSON(w, http.StatusOK, logBody{Lines: lines})
	}
}

// lastN answers a request for the last ?n= items (default def, at most
// max) that fetch returns; a failure is answered and ok is false.
func lastN[T any](c *consoleHandler, w http.ResponseWriter, r *http.Request, what string, def, max int, fetch func(int) ([]T, error)) (items []T, ok bool) {
	q, ok := c.params(w, r, "n")
	if !ok {
		return nil, false
	}
	n, ok := c.intParam(w, q, "n", def, max)
	if !ok {
		return nil, false
	}
	items, err := fetch(n)
	if err != nil {
		c.fail(w, what, err)
		return nil, false
	}
	if items == nil {
		items = []T{}
	}
	return items, true
}

func (c *consoleHandler) ledTest(w http.ResponseWriter, r *http.Request) {
	source, ok := c.who(w, r)
	if !ok || !c.noBody(w, r) {
		return
	}
	c.change(w, source, "led test", func() (any, error) { return nil, c.cd.LEDTest(r.Context()) })
}

func (c *consoleHandler) clock(w http.ResponseWriter, r *http.Request) {
	if !c.noQuery(w, r) {
		return
	}
	c.writeJSON(w, http.StatusOK, c.cd.Time())
}

func (c *consoleHandler) reboot(w http.ResponseWriter, r *http.Request) {
	source, ok := c.who(w, r)
	if !ok || !c.noBody(w, r) {
		return
	}
	// The entry must be written before the system goes down.
	c.auditResult(source, "reboot", "requested")
	if err := c.cd.Reboot(); err != nil {
		c.audit(source, "reboot", err)
		c.fail(w, "reboot", err)
		return
	}
	c.log.Warn("control: reboot", "who", source)
	c.writeJSON(w, http.StatusOK, okBody{OK: true})
}

func (c *consoleHandler) offloadStatus(w http.ResponseWriter, r *http.Request) {
	if !c.noQuery(w, r) {
		return
	}
	s, err := c.cd.OffloadStatus()
	if err != nil {
		c.fail(w, "offload status", err)
		return
	}
	c.writeJSON(w, http.StatusOK, s)
}

func (c *consoleHandler) offloadNow(w http.ResponseWriter, r *http.Request) {
	source, ok := c.who(w, r)
	if !ok || !c.noBody(w, r) {
		return
	}
	c.change(w, source, "offload now", func() (any, error) { return nil, c.cd.OffloadNow() })
}

func (c *consoleHandler) loginRequired(w http.ResponseWriter, r *http.Request) {
	if !c.noQuery(w, r) {
		return
	}
	req, err := c.cd.LoginRequired()
	if err != nil {
		c.fail(w, "login required", err)
		return
	}
	c.writeJSON(w, http.StatusOK, loginRequiredBody{Required: req})
}

// login checks a name and password (in the daemon) and starts a console
// session: the answer's token makes later requests act as that account.
// Every failure answers the same "login incorrect" (401), whatever the
// cause; the audit log has the truth (no such account, wrong password).
func (c *consoleHandler) login(w http.ResponseWriter, r *http.Request) {
	source, ok := c.who(w, r)
	if !ok {
		return
	}
	var b loginBody
	if !c.body(w, r, &b) {
		return
	}
	uid := identityOf(r).UID
	if d := c.throttle.wait(uid); d > 0 {
		secs := int((d + time.Second - 1) / time.Second)
		c.auditResult(source, "login "+strconv.Quote(b.Name), "refused: held back (failed logins in a row)")
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		c.writeError(w, http.StatusTooManyRequests, fmt.Sprintf("%v by %s: try again in %ds", ErrThrottled, source, secs))
		return
	}
	if msg := checkText("name", b.Name, users.MaxNameLen); msg != "" {
		// Still the one answer: an odd name is not an account either.
		c.throttle.failed(uid)
		c.auditResult(source, "login "+strconv.Quote(b.Name), "refused: malformed name")
		c.writeError(w, http.StatusUnauthorized, users.ErrBadCredentials.Error())
		return
	}
	u, err := c.cd.Login(b.Name, b.Password)
	var lf *users.LoginFailure
	switch {
	case errors.As(err, &lf):
		c.throttle.failed(uid)
		c.auditResult(source, "login "+b.Name, "refused: "+lf.Reason)
		c.log.Warn("control: login refused", "who", source, "account", b.Name, "why", lf.Reason)
		c.writeError(w, http.StatusUnauthorized, users.ErrBadCredentials.Error())
		return
	case err != nil:
		c.audit(source, "login "+b.Name, err)
		c.fail(w, "login", err)
		return
	}
	c.throttle.succeeded(uid)
	sess, err := c.sessions.Create(u.Name)
	c.audit(source, "login "+b.Name, err)
	if err != nil {
		c.fail(w, "login", err)
		return
	}
	c.writeJSON(w, http.StatusOK, LoginResult{User: u, Token: sess.Token, Expires: sess.Expires})
}

// logout ends the request's session (a request without one is a no-op).
func (c *consoleHandler) logout(w http.ResponseWriter, r *http.Request) {
	source, ok := c.who(w, r)
	if !ok || !c.noBody(w, r) {
		return
	}
	if tok, _ := bearer(r); tok != "" && c.sessions.Revoke(tok) {
		c.auditResult(source, "logout", "ok")
	}
	c.writeJSON(w, http.StatusOK, okBody{OK: true})
}

func (c *consoleHandler) listUsers(w http.ResponseWriter, r *http.Request) {
	if !c.noQuery(w, r) {
		return
	}
	list, err := c.cd.Users()
	if err != nil {
		c.fail(w, "users", err)
		return
	}
	if list == nil {
		list = []users.User{}
	}
	c.writeJSON(w, http.StatusOK, list)
}

func (c *consoleHandler) name(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := r.PathValue("name")
	if msg := checkText("user name", name, users.MaxNameLen); msg != "" {
		c.writeError(w, http.StatusBadRequest, msg)
		return "", false
	}
	return name, true
}

func (c *consoleHandler) addUser(w http.ResponseWriter, r *http.Request) {
	source, ok := c.who(w, r)
	if !ok {
		return
	}
	var b userBody
	if !c.body(w, r, &b) {
		return
	}
	if msg := checkText("user name", b.Name, users.MaxNameLen); msg != "" {
		c.writeError(w, http.StatusBadRequest, msg)
		return
	}
	if msg := checkText("role", string(b.Role), 32); msg != "" {
		c.writeError(w, http.StatusBadRequest, msg)
		return
	}
	c.change(w, source, "users add "+b.Name+" "+string(b.Role), func() (any, error) {
		return nil, c.cd.AddUser(b.Name, b.Role, b.Password)
	})
}

func (c *consoleHandler) removeUser(w http.ResponseWriter, r *http.Request) {
	name, ok := c.name(w, r)
	if !ok {
		return
	}
	source, ok := c.who(w, r)
	if !ok || !c.noBody(w, r) {
		return
	}
	c.change(w, source, "users del "+name, func() (any, error) { return nil, c.cd.RemoveUser(name) })
}

// setPassword sets an account's password: an admin any account's, a
// console session its own, given the current password.
func (c *consoleHandler) setPassword(w http.ResponseWriter, r *http.Request) {
	name, ok := c.name(w, r)
	if !ok {
		return
	}
	source, ok := c.who(w, r)
	if !ok {
		return
	}
	var b userBody
	if !c.body(w, r, &b) {
		return
	}
	id := identityOf(r)
	if !users.Can(id.Role, users.ManageUsers) || b.Current != "" {
		// One's own password (authorize let only the account itself
		// through): the current one first.
		if _, err := c.cd.Login(name, b.Current); err != nil {
			c.auditResult(source, "users passwd "+name, "refused: current password wrong")
			c.writeError(w, http.StatusForbidden, "permission denied: the current password is wrong; nothing changed")
			return
		}
	}
	c.change(w, source, "users passwd "+name, func() (any, error) { return nil, c.cd.SetPassword(name, b.Password) })
}

func (c *consoleHandler) setRole(w http.ResponseWriter, r *http.Request) {
	name, ok := c.name(w, r)
	if !ok {
		return
	}
	source, ok := c.who(w, r)
	if !ok {
		return
	}
	var b userBody
	if !c.body(w, r, &b) {
		return
	}
	if msg := checkText("role", string(b.Role), 32); msg != "" {
		c.writeError(w, http.StatusBadRequest, msg)
		return
	}
	c.change(w, source, "users role "+name+" "+string(b.Role), func() (any, error) { return nil, c.cd.SetRole(name, b.Role) })
}

func (c *consoleHandler) unlock(w http.ResponseWriter, r *http.Request) {
	name, ok := c.name(w, r)
	if !ok {
		return
	}
	source, ok := c.who(w, r)
	if !ok || !c.noBody(w, r) {
		return
	}
	c.change(w, source, "users unlock "+name, func() (any, error) { return nil, c.cd.Unlock(name) })
}

func (c *consoleHandler) auditLog(w http.ResponseWriter, r *http.Request) {
	if es, ok := lastN(c, w, r, "audit", DefaultAuditEntries, MaxRecordingsLimit, c.cd.Audit); ok {
		c.writeJSON(w, http.StatusOK, es)
	}
}
