package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"spanrec/firmware/index"
	"spanrec/firmware/users"
)

// CookieName is the session cookie: the session's token (HttpOnly,
// Secure, SameSite=Strict).
const CookieName = "spanrec_session"

// CSRFField is the form field that carries a session's CSRF token.
const CSRFField = "csrf"

// maxForm bounds a form's body.
const maxForm = 64 << 10 // a configuration file, URL-encoded

// identity is a logged-in request's account.
type identity struct {
	Account string
	Role    users.Role
	token   string
	// CSRF is the session's CSRF token, for the page's forms.
	CSRF string
}

// Source is how the audit log and a pause's record name the account.
func (id identity) Source() string { return "web:" + id.Account }

// Can reports whether the account's role holds p (users.Can).
func (id identity) Can(p users.Permission) bool { return users.Can(id.Role, p) }

type identityKey struct{}

func identityOf(r *http.Request) identity {
	id, _ := r.Context().Value(identityKey{}).(identity)
	return id
}

// csrfToken is the CSRF token of the session whose token is tok.
func (s *Server) csrfToken(tok string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(tok))
	return hex.EncodeToString(m.Sum(nil))
}

// session returns the request's live session, if it has one. A session
// whose account was removed is ended.
func (s *Server) session(r *http.Request) (identity, bool) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return identity{}, false
	}
	name, err := s.sessions.Lookup(c.Value)
	if err != nil {
		return identity{}, false
	}
	u, err := s.accounts.Get(name)
	if err != nil {
		s.sessions.Revoke(c.Value)
		return identity{}, false
	}
	return identity{Account: u.Name, Role: u.Role, token: c.Value, CSRF: s.csrfToken(c.Value)}, true
}

// sameOrigin reports whether a POST comes from a page of this server: its
// Origin (or, without one, its Referer) is https://HOST.
func sameOrigin(r *http.Request) bool {
	want := "https://" + r.Host
	if o := r.Header.Get("Origin"); o != "" {
		return o == want
	}
	ref, err := url.Parse(r.Header.Get("Referer"))
	return err == nil && ref.Scheme == "https" && ref.Host == r.Host
}

// authorize lets a request through with a live session whose role holds
// perm ("": any account). Without a session a page redirects to the login; a POST must
// also be same-origin and carry the session's CSRF token. A refused POST
// is audited.
func (s *Server) authorize(perm users.Permission, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.session(r)
		if !ok {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.error(w, r, http.StatusUnauthorized, users.ErrNoSession.Error())
			return
		}
		if r.Method == http.MethodPost {
			if msg := s.checkPost(w, r, id); msg != "" {
				s.audit(id.Source(), r.Method+" "+r.URL.Path, "refused: "+msg)
				s.log.Warn("web: request refused", "who", id.Source(), "request", r.Method+" "+r.URL.Path, "why", msg)
				s.error(w, r, http.StatusForbidden, msg)
				return
			}
		}
		if perm != "" && !id.Can(perm) {
			msg := fmt.Sprintf("permission denied: %s (%s) may not %s", id.Account, id.Role, perm)
			if r.Method != http.MethodGet {
				s.audit(id.Source(), r.Method+" "+r.URL.Path, "refused: "+msg)
			}
			s.log.Warn("web: request refused", "who", id.Source(), "request", r.Method+" "+r.URL.Path, "why", msg)
			s.errorAs(w, r, id, http.StatusForbidden, msg)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
	}
}

// checkPost returns why a logged-in POST is refused ("" when it is not):
// another origin, or a missing or wrong CSRF token.
func (s *Server) checkPost(w http.ResponseWriter, r *http.Request, id identity) string {
	if !sameOrigin(r) {
		return "cross-origin request refused"
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		return "bad form"
	}
	if !hmac.Equal([]byte(r.PostForm.Get(CSRFField)), []byte(id.CSRF)) {
		return "missing or wrong CSRF token (reload the page)"
	}
	return ""
}

// audit writes one audit log entry; a failure is logged.
func (s *Server) audit(user, command, result string) {
	if _, err := s.auditLog.AppendAudit(index.AuditEntry{User: user, Command: command, Result: result}); err != nil {
		s.log.Error("web: cannot write the audit log", "user", user, "command", command, "err", err)
	}
}

// clientAddr is the client's IP address (the throttle's key, the audit
// source of a failed login).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loginIncorrect is every failed login's answer, unknown name or wrong
// password alike (the audit log tells the admin which).
const loginIncorrect = "Login incorrect"

// maxName bounds a login name.
const maxName = 64

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.session(r); ok {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login.html", identity{}, map[string]any{"Next": safeNext(r.URL.Query().Get("next"))})
}

// login checks the name and password in the daemon (users store) and
// starts a session. Failures in a row from one address wait
// users.FailureDelay before the next attempt is checked.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	addr := clientAddr(r)
	source := "web:" + addr
	if !sameOrigin(r) {
		s.audit(source, "login", "refused: cross-origin request")
		s.error(w, r, http.StatusForbidden, "cross-origin request refused")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "bad form")
		return
	}
	name, pw, next := r.PostForm.Get("name"), r.PostForm.Get("password"), safeNext(r.PostForm.Get("next"))
	fail := func(code int, msg string) {
		s.render(w, r, code, "login.html", identity{}, map[string]any{"Next": next, "Error": msg, "Name": name})
	}
	if d := s.throttle.Wait(addr); d > 0 {
		s.audit(source, "login "+strconv.Quote(name), "refused: held back (failed logins in a row)")
		fail(http.StatusTooManyRequests, fmt.Sprintf("Too many failed logins: try again in %d s", int(d.Seconds()+0.999)))
		return
	}
	if name == "" || len(name) > maxName || !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		s.throttle.Failed(addr)
		s.audit(source, "login "+strconv.Quote(name), "refused: malformed name")
		fail(http.StatusUnauthorized, loginIncorrect)
		return
	}
	u, err := s.accounts.Authenticate(name, pw)
	var lf *users.LoginFailure
	if errors.As(err, &lf) {
		s.throttle.Failed(addr)
		s.audit(source, "login "+name, "refused: "+lf.Reason)
		s.log.Warn("web: login refused", "from", addr, "account", name, "why", lf.Reason)
		fail(http.StatusUnauthorized, loginIncorrect)
		return
	}
	if err != nil {
		s.audit(source, "login "+name, err.Error())
		s.log.Error("web: login failed", "from", addr, "err", err)
		fail(http.StatusInternalServerError, "Login failed: "+err.Error())
		return
	}
	s.throttle.Succeeded(addr)
	sess, err := s.sessions.Create(u.Name)
	if err != nil {
		fail(http.StatusInternalServerError, err.Error())
		return
	}
	s.audit("web:"+u.Name, "login "+u.Name+" from "+addr, "ok")
	s.log.Info("web: login", "account", u.Name, "from", addr)
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: sess.Token, Path: "/",
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout ends the session (a same-origin POST with its CSRF token).
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	id := identityOf(r)
	s.sessions.Revoke(id.token)
	s.audit(id.Source(), "logout", "ok")
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext is a local path to go to after the login ("/" otherwise).
func safeNext(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\r\n") {
		return "/"
	}
	return p
}
