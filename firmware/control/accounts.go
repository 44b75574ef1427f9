package control

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"spanrec/firmware/users"
)

// Accounts are the console accounts: *users.Store.
type Accounts interface {
	// Len counts the accounts: with none, the console asks for no login.
	Len() int
	// Authenticate checks a password: a *users.LoginFailure for an
	// unknown name or a wrong password.
	Authenticate(name, password string) (users.User, error)
	// Get returns one account (users.ErrNotFound): a console session acts
	// with its current role.
	Get(name string) (users.User, error)
	List() []users.User
	Add(name string, role users.Role, password string) error
	Remove(name string) error
	SetPassword(name, password string) error
	SetRole(name string, role users.Role) error
	Unlock(name string) error
}

// LoginResult is a successful login (POST /v1/login): the account and
// the session's token, to send as "Authorization: Bearer TOKEN".
type LoginResult struct {
	User    users.User `json:"user"`
	Token   string     `json:"token"`
	Expires time.Time  `json:"expires"`
}

// Request and response bodies of the accounts endpoints.
type (
	loginBody struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	loginRequiredBody struct {
		Required bool `json:"required"`
	}
	userBody struct {
		Name     string     `json:"name,omitempty"`
		Role     users.Role `json:"role,omitempty"`
		Password string     `json:"password,omitempty"`
		// Current is the current password, when one changes one's own.
		Current string `json:"current,omitempty"`
	}
)

func (h *handler) accountRoutes() []route {
	a, ready := h.s.Accounts, h.s.Accounts != nil
	name := func(rq *request[userBody]) string { return rq.r.PathValue("name") }
	checkName := func(rq *request[userBody]) string { return checkText("user name", name(rq), users.MaxNameLen) }
	checkRole := func(rq *request[userBody]) string { return checkText("role", string(rq.Body.Role), 32) }
	// change is an audited change of the account {name}.
	change := func(body bool, check func(*request[userBody]) string, command func(*request[userBody]) string, run func(*request[userBody]) error) op[userBody] {
		return op[userBody]{service: "accounts", ready: ready, body: body,
			check: func(rq *request[userBody]) string { return checks(checkName(rq), check(rq)) },
			audit: command,
			run:   func(rq *request[userBody]) (any, error) { return nil, run(rq) }}
	}
	none := func(*request[userBody]) string { return "" }
	self := rt("POST /v1/users/{name}/password", users.ManageUsers, serve(h, change(true, none,
		func(rq *request[userBody]) string { return "users passwd " + name(rq) },
		func(rq *request[userBody]) error { return h.setPassword(rq, a) })))
	self.self = true
	return []route{
		rt("GET /v1/login", public, serve(h, op[struct{}]{service: "accounts", ready: ready,
			run: func(*request[struct{}]) (any, error) { return loginRequiredBody{Required: a.Len() > 0}, nil }})),
		rt("POST /v1/login", public, serve(h, op[loginBody]{service: "accounts", ready: ready, body: true,
			run: func(rq *request[loginBody]) (any, error) { return h.login(rq, a) }})),
		rt("POST /v1/logout", public, serve(h, op[struct{}]{ready: true,
			run: func(rq *request[struct{}]) (any, error) {
				if tok, _ := bearer(rq.r); tok != "" && h.sessions.Revoke(tok) {
					h.audit(rq.ID.Account, "logout", "ok")
				}
				return nil, nil
			}})),
		rt("GET /v1/whoami", public, serve(h, op[struct{}]{ready: true,
			run: func(rq *request[struct{}]) (any, error) { return rq.ID, nil }})),
		rt("GET /v1/users", users.ManageUsers, serve(h, op[struct{}]{service: "accounts", ready: ready,
			run: func(*request[struct{}]) (any, error) {
				list := a.List()
				if list == nil {
					list = []users.User{}
				}
				return list, nil
			}})),
		rt("POST /v1/users", users.ManageUsers, serve(h, op[userBody]{service: "accounts", ready: ready, body: true,
			check: func(rq *request[userBody]) string {
				return checks(checkText("user name", rq.Body.Name, users.MaxNameLen), checkRole(rq))
			},
			audit: func(rq *request[userBody]) string { return "users add " + rq.Body.Name + " " + string(rq.Body.Role) },
			run: func(rq *request[userBody]) (any, error) {
				return nil, a.Add(rq.Body.Name, rq.Body.Role, rq.Body.Password)
			}})),
		rt("DELETE /v1/users/{name}", users.ManageUsers, serve(h, change(false, none,
			func(rq *request[userBody]) string { return "users del " + name(rq) },
			func(rq *request[userBody]) error { return a.Remove(name(rq)) }))),
		self,
		rt("POST /v1/users/{name}/role", users.ManageUsers, serve(h, change(true, checkRole,
			func(rq *request[userBody]) string { return "users role " + name(rq) + " " + string(rq.Body.Role) },
			func(rq *request[userBody]) error { return a.SetRole(name(rq), rq.Body.Role) }))),
		rt("POST /v1/users/{name}/unlock", users.ManageUsers, serve(h, change(false, none,
			func(rq *request[userBody]) string { return "users unlock " + name(rq) },
			func(rq *request[userBody]) error { return a.Unlock(name(rq)) }))),
	}
}

// errCurrentPassword refuses a change of one's own password without the
// right current one.
var errCurrentPassword = fmt.Errorf("%w: the current password is wrong; nothing changed", ErrForbidden)

// setPassword sets an account's password: an admin any account's, a
// console session its own (authorize let only the account itself
// through), given the current password.
func (h *handler) setPassword(rq *request[userBody], a Accounts) error {
	name := rq.r.PathValue("name")
	if !users.Can(rq.ID.Role, users.ManageUsers) || rq.Body.Current != "" {
		if _, err := a.Authenticate(name, rq.Body.Current); err != nil {
			return refusal{errCurrentPassword, "refused: current password wrong"}
		}
	}
	return a.SetPassword(name, rq.Body.Password)
}

// refusal is an error whose audit entry says it in other words.
type refusal struct {
	err   error
	audit string
}

func (r refusal) Error() string { return r.err.Error() }
func (r refusal) Unwrap() error { return r.err }

// login checks a name and password and starts a console session: the
// answer's token makes later requests act as that account. Every failure
// answers the same "login incorrect" (401), whatever the cause; the
// audit log has the truth (no such account, wrong password).
func (h *handler) login(rq *request[loginBody], a Accounts) (any, error) {
	who, name, uid := rq.ID.Account, rq.Body.Name, rq.ID.UID
	if d := h.throttle.wait(uid); d > 0 {
		secs := int((d + time.Second - 1) / time.Second)
		h.audit(who, "login "+strconv.Quote(name), "refused: held back (failed logins in a row)")
		rq.w.Header().Set("Retry-After", strconv.Itoa(secs))
		return nil, fmt.Errorf("%w by %s: try again in %ds", ErrThrottled, who, secs)
	}
	if msg := checkText("name", name, users.MaxNameLen); msg != "" {
		// Still the one answer: an odd name is not an account either.
		h.throttle.failed(uid)
		h.audit(who, "login "+strconv.Quote(name), "refused: malformed name")
		return nil, users.ErrBadCredentials
	}
	u, err := a.Authenticate(name, rq.Body.Password)
	var lf *users.LoginFailure
	switch {
	case errors.As(err, &lf):
		h.throttle.failed(uid)
		h.audit(who, "login "+name, "refused: "+lf.Reason)
		h.log.Warn("control: login refused", "who", who, "account", name, "why", lf.Reason)
		return nil, users.ErrBadCredentials
	case err != nil:
		h.audit(who, "login "+name, resultOf(err))
		return nil, err
	}
	h.throttle.succeeded(uid)
	sess, err := h.sessions.Create(u.Name)
	h.audit(who, "login "+name, resultOf(err))
	if err != nil {
		return nil, err
	}
	return LoginResult{User: u, Token: sess.Token, Expires: sess.Expires}, nil
}
