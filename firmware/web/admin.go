package web

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"spanrec/firmware/control"
	"spanrec/firmware/users"
)

// The admin pages: accounts, the configuration, storage and offload,
// the audit log, and the release of quarantined recordings. Each needs
// the permission of the control endpoint doing the same (so a
// technician reads the configuration and an auditor the audit log, as
// on the console); every change is audited as web:<account> with the
// console's command words.

// AuditPageSize is how many audit entries a page shows.
const AuditPageSize = 50

// maxAuditPage bounds the audit log's page number.
const maxAuditPage = control.MaxRecordingsLimit / AuditPageSize

// maxValue bounds a configuration value from the form (the control
// API's own bound).
const maxValue = 4096

func (s *Server) adminRoutes() []route {
	return []route{
		{pattern: "GET /admin/users", api: "GET /v1/users", handle: s.usersPage},
		{pattern: "POST /admin/users", api: "POST /v1/users", handle: s.addUser},
		{pattern: "POST /admin/users/{name}/role", api: "POST /v1/users/{name}/role", handle: s.setRole},
		{pattern: "POST /admin/users/{name}/password", api: "POST /v1/users/{name}/password", handle: s.setPassword},
		{pattern: "POST /admin/users/{name}/unlock", api: "POST /v1/users/{name}/unlock", handle: s.unlockUser},
		{pattern: "POST /admin/users/{name}/delete", api: "DELETE /v1/users/{name}", handle: s.removeUser},
		{pattern: "GET /admin/config", api: "GET /v1/config", handle: s.configPage},
		{pattern: "POST /admin/config", api: "POST /v1/config", handle: s.setConfig},
		{pattern: "POST /admin/config/file", api: "POST /v1/config", handle: s.replaceConfig},
		{pattern: "GET /admin/storage", api: "GET /v1/storage", handle: s.storagePage},
		{pattern: "POST /admin/offload", api: "POST /v1/offload/now", handle: s.offloadNow},
		{pattern: "GET /admin/audit", api: "GET /v1/audit", handle: s.auditPage},
		// Releasing a quarantine is a decision on the consent policy: the
		// permission to configure it (admins).
		{pattern: "POST /recordings/{id}/release", perm: users.Configure, handle: s.release},
	}
}

// change runs one change for the account, audits it with command and
// its result, keeps what happened for the session's next page (notice)
// and redirects to the page back.
func (s *Server) change(w http.ResponseWriter, r *http.Request, command, back string, fn func() (string, error)) {
	id := identityOf(r)
	done, err := fn()
	result := "ok"
	n := notice{Done: done}
	if err != nil {
		result = err.Error()
		n = notice{Error: err.Error()}
		s.log.Warn("web: change refused", "who", id.Source(), "command", command, "err", err)
	} else {
		s.log.Info("web: changed", "who", id.Source(), "command", command)
	}
	s.audit(id.Source(), command, result)
	s.notices.put(id.CSRF, n)
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// notice is what a page says about the change it was sent back from:
// kept by the server for the session (never taken from the URL, so a
// link cannot make the appliance say something).
type notice struct{ Done, Error string }

// notices holds each session's one pending notice, keyed by its CSRF
// token (an HMAC of the session token, not the token itself).
type notices struct {
	mu sync.Mutex
	m  map[string]notice
}

// maxNotices bounds the pending notices (sessions that changed
// something and never loaded the next page).
const maxNotices = 1024

func (n *notices) put(session string, v notice) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.m == nil || len(n.m) >= maxNotices {
		n.m = make(map[string]notice)
	}
	n.m[session] = v
}

// take returns and forgets the session's notice.
func (n *notices) take(session string) notice {
	n.mu.Lock()
	defer n.mu.Unlock()
	v := n.m[session]
	delete(n.m, session)
	return v
}

// notice returns the request's session's pending notice.
func (s *Server) notice(r *http.Request) notice { return s.notices.take(identityOf(r).CSRF) }

// formText returns a form field, or why it is refused.
func formText(r *http.Request, name string, maxLen int) (string, error) {
	v := r.PostForm.Get(name)
	if v == "" {
		return "", fmt.Errorf("%s is empty", name)
	}
	if len(v) > maxLen || strings.ContainsFunc(v, func(c rune) bool { return c < ' ' && c != '\t' }) {
		return "", fmt.Errorf("%s: at most %d bytes, no control characters", name, maxLen)
	}
	return v, nil
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request) {
	list := s.accounts.List()
	s.render(w, r, http.StatusOK, "users.html", identityOf(r), map[string]any{"Users": list, "Roles": users.Roles(), "Notice": s.notice(r)})
}

// userChange is a change of the account in the path.
func (s *Server) userChange(w http.ResponseWriter, r *http.Request, command string, fn func(name string) (string, error)) {
	name := r.PathValue("name")
	if len(name) > users.MaxNameLen {
		s.error(w, r, http.StatusBadRequest, "user name too long")
		return
	}
	s.change(w, r, command+" "+name, "/admin/users", func() (string, error) { return fn(name) })
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request) {
	name := r.PostForm.Get("name")
	role := users.Role(r.PostForm.Get("role"))
	if len(name) > users.MaxNameLen || len(role) > 32 {
		s.error(w, r, http.StatusBadRequest, "user name or role too long")
		return
	}
	s.change(w, r, "users add "+name+" "+string(role), "/admin/users", func() (string, error) {
		return "added " + name + " (" + string(role) + ")", s.accounts.Add(name, role, r.PostForm.Get("password"))
	})
}

func (s *Server) setRole(w http.ResponseWriter, r *http.Request) {
	role := users.Role(r.PostForm.Get("role"))
	if len(role) > 32 {
		s.error(w, r, http.StatusBadRequest, "role too long")
		return
	}
	s.userChange(w, r, "users role", func(name string) (string, error) {
		return name + " is now " + string(role), s.accounts.SetRole(name, role)
	})
}

func (s *Server) setPassword(w http.ResponseWriter, r *http.Request) {
	s.userChange(w, r, "users passwd", func(name string) (string, error) {
		return "new password for " + name, s.accounts.SetPassword(name, r.PostForm.Get("password"))
	})
}

func (s *Server) unlockUser(w http.ResponseWriter, r *http.Request) {
	s.userChange(w, r, "users unlock", func(name string) (string, error) { return "unlocked " + name, s.accounts.Unlock(name) })
}

func (s *Server) removeUser(w http.ResponseWriter, r *http.Request) {
	s.userChange(w, r, "users del", func(name string) (string, error) {
		if name == identityOf(r).Account {
			return "", errors.New("an admin cannot delete the account they are logged in with")
		}
		return "deleted " + name, s.accounts.Remove(name)
	})
}

func (s *Server) configPage(w http.ResponseWriter, r *http.Request) {
	data := map[string]any{"Notice": s.notice(r)}
	ci, err := s.settings.Config()
	switch {
	case errors.Is(err, control.ErrNotConfigured):
		data["NotConfigured"] = err.Error()
	case err != nil:
		s.fail(w, r, "config", err)
		return
	default:
		data["Config"] = ci
		data["Sections"] = s.sections(ci.YAML)
		if identityOf(r).Can(users.Configure) {
			if _, text, err := s.settings.ConfigFile(); err == nil {
				data["FileText"] = text
			}
		}
	}
	s.render(w, r, http.StatusOK, "config.html", identityOf(r), data)
}

// section is one top-level section of the effective configuration.
type section struct {
	Name   string
	Reload bool // applied by the running daemon on a change
}

// sections lists the configuration's top-level sections and when a
// change of each applies.
func (s *Server) sections(doc string) []section {
	var m yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &m); err != nil || len(m.Content) == 0 || m.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	var out []section
	for i := 0; i+1 < len(m.Content[0].Content); i += 2 {
		name := m.Content[0].Content[i].Value
		out = append(out, section{Name: name, Reload: s.settings.Reloadable(name)})
	}
	return out
}

// secretKey reports whether a configuration key's value stays out of the
// audit log (as the control API's config set).
func secretKey(key string) bool {
	k := strings.ToLower(key)
	return slices.ContainsFunc([]string{"pass", "secret", "token", "credential", "private"}, func(s string) bool { return strings.Contains(k, s) })
}

// setConfig changes one key of the configuration file, validated as
// `spanrec config check` validates the whole file and written
// atomically (the daemon's SetConfig); the page says whether it applies
// now or at the next start.
func (s *Server) setConfig(w http.ResponseWriter, r *http.Request) {
	key, err := formText(r, "key", 128)
	value := ""
	if err == nil {
		value, err = formText(r, "value", maxValue)
	}
	if err != nil {
		s.error(w, r, http.StatusBadRequest, err.Error())
		return
	}
	shown := value
	if secretKey(key) {
		shown = "********"
	}
	s.change(w, r, "config set "+key+" "+shown, "/admin/config", func() (string, error) {
		ch, err := s.settings.SetConfig(key, value)
		if err != nil {
			return "", err
		}
		when := "saved; takes effect at the next start (restart the appliance)"
		switch {
		case ch.Applied:
			when = "saved and applied now"
		case !ch.Restart:
			when = "saved; applies at the next reload"
		}
		return key + " = " + shown + ": " + when, nil
	})
}

// maxConfigFile bounds a configuration file from the form.
const maxConfigFile = 48 << 10

// replaceConfig writes the whole configuration file from the form's
// text (Backend.ReplaceConfig); the page says which changed sections
// were applied and which wait for the next start.
func (s *Server) replaceConfig(w http.ResponseWriter, r *http.Request) {
	text := strings.ReplaceAll(r.PostForm.Get("yaml"), "\r\n", "\n")
	if len(text) > maxConfigFile || strings.TrimSpace(text) == "" {
		s.error(w, r, http.StatusBadRequest, fmt.Sprintf("the configuration must be 1 to %d bytes", maxConfigFile))
		return
	}
	sum := sha256.Sum256([]byte(text))
	s.change(w, r, "config replace sha256:"+hex.EncodeToString(sum[:8]), "/admin/config", func() (string, error) {
		rep, err := s.settings.ReplaceConfig(text)
		if err != nil {
			return "", err
		}
		msg := "saved " + rep.File
		if len(rep.Applied) == 0 && len(rep.Restart) == 0 {
			msg += ": no setting changed"
		}
		if len(rep.Applied) > 0 {
			msg += "; applied now: " + strings.Join(rep.Applied, ", ")
		}
		if len(rep.Restart) > 0 {
			msg += "; at the next start: " + strings.Join(rep.Restart, ", ")
		}
		return msg, nil
	})
}

func (s *Server) storagePage(w http.ResponseWriter, r *http.Request) {
	id := identityOf(r)
	data := map[string]any{}
	st, err := s.appliance.Storage()
	if err != nil {
		s.fail(w, r, "storage", err)
		return
	}
	data["Storage"] = st
	if id.Can(users.Offload) {
		if o, err := s.offloadStatus(); err != nil {
			data["OffloadErr"] = err.Error()
		} else {
			data["Offload"] = o
		}
	}
	if id.Can(users.ViewConfig) {
		if ci, err := s.settings.Config(); err == nil {
			data["Settings"] = configSections(ci.YAML, "storage", "offload")
		}
	}
	data["Notice"] = s.notice(r)
	s.render(w, r, http.StatusOK, "storage.html", id, data)
}

// auditPage shows the audit log newest first, AuditPageSize entries a
// page.
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	pg := 0
	if v := r.URL.Query().Get("page"); v != "" {
		var err error
		if pg, err = strconv.Atoi(v); err != nil || pg < 0 || pg >= maxAuditPage {
			s.error(w, r, http.StatusBadRequest, fmt.Sprintf("page must be 0 to %d", maxAuditPage-1))
			return
		}
	}
	n := (pg+1)*AuditPageSize + 1 // one more tells whether there is an older page
	es, err := s.auditLog.AuditTail(n)
	if err != nil {
		s.fail(w, r, "audit", err)
		return
	}
	slices.Reverse(es)
	from := min(pg*AuditPageSize, len(es))
	to := min(from+AuditPageSize, len(es))
	data := map[string]any{"Entries": es[from:to], "Page": pg + 1}
	if pg > 0 {
		data["Prev"] = "/admin/audit?page=" + strconv.Itoa(pg-1)
	}
	if len(es) > to && pg+1 < maxAuditPage {
		data["Next"] = "/admin/audit?page=" + strconv.Itoa(pg+1)
	}
	s.render(w, r, http.StatusOK, "audit.html", identityOf(r), data)
}

// startOffload starts an offload run at once (the console's `offload now`).
func (s *Server) offloadNow(w http.ResponseWriter, r *http.Request) {
	s.change(w, r, "offload now", "/admin/storage", func() (string, error) { return "offload run started", s.startOffload() })
}

// configSections returns the named top-level sections of a YAML
// document, each as YAML of its own (settings shown beside their state).
func configSections(doc string, names ...string) []map[string]string {
	var m yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &m); err != nil || len(m.Content) == 0 || m.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	var out []map[string]string
	top := m.Content[0].Content
	for i := 0; i+1 < len(top); i += 2 {
		if !slices.Contains(names, top[i].Value) {
			continue
		}
		one := yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{top[i], top[i+1]}}
		var b strings.Builder
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if enc.Encode(&one) != nil || enc.Close() != nil {
			continue
		}
		out = append(out, map[string]string{"Name": top[i].Value, "YAML": b.String()})
	}
	return out
}

// release clears a recording's quarantine (Backend.ReleaseQuarantine).
func (s *Server) release(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if len(id) > 128 {
		s.error(w, r, http.StatusBadRequest, "recording id too long")
		return
	}
	s.change(w, r, "quarantine release "+id, "/recordings/"+url.PathEscape(id), func() (string, error) {
		return "quarantine released", s.rec.ReleaseQuarantine(id, identityOf(r).Source())
	})
}

// offloadStatus is the offload scheduler's state (control.ErrNotConfigured
// without one).
func (s *Server) offloadStatus() (control.OffloadStatus, error) {
	if s.offload == nil {
		return control.OffloadStatus{}, fmt.Errorf("offload %w", control.ErrNotConfigured)
	}
	return s.offload.OffloadStatus()
}

// startOffload starts an offload run (control.ErrNotConfigured without a
// scheduler).
func (s *Server) startOffload() error {
	if s.offload == nil {
		return fmt.Errorf("offload %w", control.ErrNotConfigured)
	}
	return s.offload.OffloadNow()
}
