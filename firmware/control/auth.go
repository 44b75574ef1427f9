package control

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"spanrec/firmware/users"
)

// Options configure the control server. The zero value serves root alone
// (every other uid has no role) with default console sessions.
type Options struct {
	// Log is the daemon's log; nil discards.
	Log *slog.Logger
	// UIDRoles gives local users other than root a role on the socket
	// (config key control.uid_roles). Root (uid 0) is always admin; a uid
	// not listed has no role: it may only log in (GET and POST /v1/login,
	// /v1/whoami, /v1/logout).
	UIDRoles map[uint32]users.Role
	// Sessions holds the console sessions (POST /v1/login); nil means a
	// new table with the default expiry.
	Sessions *users.Sessions
	// Now is the clock of the login throttle; nil means time.Now.
	Now func() time.Time
	// Limits bounds the connections (limits.control_connections and
	// control_idle); nil means the defaults.
	Limits *ConnLimits
}

// Identity is who a request comes from, as the server established it:
// the peer's uid from the kernel (SO_PEERCRED), or the account of the
// console session whose token the request carries. Nothing the client
// says of itself (a source= parameter, a name) enters it.
type Identity struct {
	// Account names it in the audit log and the index: "uid:N" for a
	// peer, the account name ("alice") for a console session.
	Account string `json:"account"`
	// Role is what it may do (users.Can); "" nothing.
	Role users.Role `json:"role"`
	// UID is the peer process's uid.
	UID uint32 `json:"uid"`
	// Session is true when a console session's token decided it.
	Session bool `json:"session"`
}

// roleName is r for messages, "no role" for none.
func roleName(r users.Role) string {
	if r == "" {
		return "no role"
	}
	return string(r)
}

// TokenHeader carries a console session's token: "Authorization: Bearer
// TOKEN".
const TokenHeader = "Authorization"

// bearer returns the request's session token ("" when it has none).
func bearer(r *http.Request) (string, bool) {
	v := r.Header.Get(TokenHeader)
	if v == "" {
		return "", true
	}
	tok, ok := strings.CutPrefix(v, "Bearer ")
	return tok, ok && tok != ""
}

// peerKey is the context key of the connection's peer (ConnContext).
type peerKey struct{}

// peer is a connection's peer uid, or why it is unknown.
type peer struct {
	uid uint32
	err error
}

// connContext records the connection's peer uid in its context: once per
// connection, before any request on it.
func connContext(ctx context.Context, c net.Conn) context.Context {
	uid, err := peerUID(c)
	return context.WithValue(ctx, peerKey{}, peer{uid: uid, err: err})
}

// identityKey is the context key of a request's Identity.
type identityKey struct{}

// identityOf returns the request's Identity (set by authorize).
func identityOf(r *http.Request) Identity {
	id, _ := r.Context().Value(identityKey{}).(Identity)
	return id
}

// forbidden is the text of a refusal (403); the client's errors match
// ErrForbidden.
func forbidden(id Identity, perm users.Permission) string {
	return fmt.Sprintf("permission denied: %s (%s) may not %s", id.Account, roleName(id.Role), perm)
}

// identify establishes who r comes from, or answers a refusal (code and
// message). A request with a token acts as its session's account,
// whatever the peer; a token that is not a live session is refused (never
// a fallback to the peer's role).
func (h *handler) identify(r *http.Request) (Identity, int, string) {
	p, ok := r.Context().Value(peerKey{}).(peer)
	if !ok || p.err != nil {
		why := "no peer credentials"
		if ok {
			why = p.err.Error()
		}
		return Identity{}, http.StatusForbidden, "permission denied: the control socket cannot tell who you are (" + why + ")"
	}
	id := Identity{UID: p.uid, Account: "uid:" + strconv.FormatUint(uint64(p.uid), 10), Role: h.uidRole(p.uid)}
	// On a refusal below, id names the peer for the logs only.
	tok, ok := bearer(r)
	switch {
	case !ok:
		return id, http.StatusUnauthorized, "bad Authorization header (want: Bearer TOKEN)"
	case tok == "":
		return id, 0, ""
	case h.s.Accounts == nil:
		return id, http.StatusUnauthorized, users.ErrNoSession.Error()
	}
	name, err := h.sessions.Lookup(tok)
	if err != nil {
		return id, http.StatusUnauthorized, err.Error()
	}
	u, err := h.s.Accounts.Get(name)
	if err != nil { // removed since the login
		h.sessions.Revoke(tok)
		return id, http.StatusUnauthorized, users.ErrNoSession.Error()
	}
	return Identity{UID: p.uid, Account: u.Name, Role: u.Role, Session: true}, 0, ""
}

// uidRole is the role of a peer uid: root is admin, others as mapped.
func (h *handler) uidRole(uid uint32) users.Role {
	if uid == 0 {
		return users.Admin
	}
	return h.opts.UIDRoles[uid]
}

// authorize wraps rt's handler: it identifies the request and lets it
// through only with rt's permission. A refused change is audited.
func (h *handler) authorize(rt route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, code, msg := h.identify(r)
		if code == 0 && rt.perm != public && !users.Can(id.Role, rt.perm) &&
			!(rt.self && id.Session && r.PathValue("name") == id.Account) {
			code, msg = http.StatusForbidden, forbidden(id, rt.perm)
		}
		if code != 0 {
			who := id.Account
			if who == "" {
				who = "unknown peer"
			}
			h.log.Warn("control: request refused", "who", who, "request", r.Method+" "+r.URL.Path, "why", msg)
			if r.Method != http.MethodGet {
				h.audit(who, r.Method+" "+r.URL.Path, "refused: "+msg)
			}
			body := errorBody{Error: msg}
			if code == http.StatusUnauthorized {
				body.Code = codeNoSession
			}
			h.writeJSON(w, code, body)
			return
		}
		rt.handle(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
	}
}
