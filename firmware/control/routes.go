package control

import (
	"net/http"

	"spanrec/firmware/users"
)

// routes is every endpoint with the permission it needs: the one place
// that says who may call what (users.Can says which roles hold a
// permission). The console's checks only spare a round trip; this table
// is what is enforced. The console endpoints exist only when the Daemon
// is a ConsoleDaemon.
//
//	GET    /v1/status                            Status
//	GET    /v1/calls                             []Call
//	POST   /v1/calls/{id}/pause                  pause a call ("all": every call)
//	POST   /v1/calls/{id}/resume                 resume it
//	GET    /v1/recordings?q=TEXT&limit=N&all=1   []index.Call, newest first
//	GET    /v1/recordings/{id}                   index.Call
//	GET    /v1/recordings/{id}/verify            Verification ("all": everything)
//	DELETE /v1/recordings/{id}                   {"ok": true} (admin; audited with the deletion)
//	GET    /v1/config                            ConfigInfo
//	POST   /v1/config         {"key","value"}    ConfigChange
//	GET    /v1/storage                           StorageInfo
//	GET    /v1/log?n=N                           {"lines": [...]}
//	POST   /v1/led/test                          {"ok": true} when the test is over
//	GET    /v1/time                              TimeInfo
//	POST   /v1/reboot                            {"ok": true}
//	GET    /v1/offload                           OffloadStatus
//	POST   /v1/offload/now                       {"ok": true}
//	GET    /v1/login                             {"required": bool}
//	POST   /v1/login          {"name","password"}  LoginResult (401 "login incorrect")
//	POST   /v1/logout                            ends the request's session
//	GET    /v1/whoami                            Identity
//	GET    /v1/users                             []users.User (never a hash)
//	POST   /v1/users          {"name","role","password"}
//	DELETE /v1/users/{name}
//	POST   /v1/users/{name}/password {"password","current"}
//	POST   /v1/users/{name}/role     {"role"}
//	POST   /v1/users/{name}/unlock
//	GET    /v1/audit?n=N                         []index.AuditEntry, oldest first
func (h *handler) routes() []route {
	rs := []route{
		{pattern: "GET /v1/status", perm: users.ViewStatus, handle: h.status},
		{pattern: "GET /v1/calls", perm: users.ViewCalls, handle: h.calls},
		{pattern: "POST /v1/calls/{id}/pause", perm: users.PauseResume, handle: func(w http.ResponseWriter, r *http.Request) { h.action(w, r, true) }},
		{pattern: "POST /v1/calls/{id}/resume", perm: users.PauseResume, handle: func(w http.ResponseWriter, r *http.Request) { h.action(w, r, false) }},
		{pattern: "GET /v1/whoami", perm: public, handle: h.whoami},
	}
	if h.cd == nil {
		return rs
	}
	c := &consoleHandler{handler: h, cd: h.cd}
	return append(rs, []route{
		{pattern: "GET /v1/recordings", perm: users.ViewRecordings, handle: c.recordings},
		{pattern: "GET /v1/recordings/{id}", perm: users.ViewRecordings, handle: c.recording},
		{pattern: "GET /v1/recordings/{id}/verify", perm: users.VerifyRecordings, handle: c.verify},
		{pattern: "DELETE /v1/recordings/{id}", perm: users.DeleteRecordings, handle: c.deleteRecording},
		{pattern: "GET /v1/config", perm: users.ViewConfig, handle: c.config},
		{pattern: "POST /v1/config", perm: users.Configure, handle: c.setConfig},
		{pattern: "GET /v1/storage", perm: users.ViewStatus, handle: c.storage},
		{pattern: "GET /v1/log", perm: users.Diagnostics, handle: c.logTail},
		{pattern: "POST /v1/led/test", perm: users.Diagnostics, handle: c.ledTest},
		{pattern: "GET /v1/time", perm: users.ViewStatus, handle: c.clock},
		{pattern: "POST /v1/reboot", perm: users.Reboot, handle: c.reboot},
		{pattern: "GET /v1/offload", perm: users.Offload, handle: c.offloadStatus},
		{pattern: "POST /v1/offload/now", perm: users.Offload, handle: c.offloadNow},
		{pattern: "GET /v1/login", perm: public, handle: c.loginRequired},
		{pattern: "POST /v1/login", perm: public, handle: c.login},
		{pattern: "POST /v1/logout", perm: public, handle: c.logout},
		{pattern: "GET /v1/users", perm: users.ManageUsers, handle: c.listUsers},
		{pattern: "POST /v1/users", perm: users.ManageUsers, handle: c.addUser},
		{pattern: "DELETE /v1/users/{name}", perm: users.ManageUsers, handle: c.removeUser},
		{pattern: "POST /v1/users/{name}/password", perm: users.ManageUsers, self: true, handle: c.setPassword},
		{pattern: "POST /v1/users/{name}/role", perm: users.ManageUsers, handle: c.setRole},
		{pattern: "POST /v1/users/{name}/unlock", perm: users.ManageUsers, handle: c.unlock},
		{pattern: "GET /v1/audit", perm: users.ViewAudit, handle: c.auditLog},
	}...)
}

// Permission returns the permission the endpoint pattern ("POST
// /v1/users") needs, and whether there is such an endpoint; "(anyone)"
// for those open to every peer. For documentation and tests.
func Permission(pattern string) (users.Permission, bool) {
	h := &handler{cd: consoleRoutes{}}
	for _, rt := range h.routes() {
		if rt.pattern == pattern {
			return rt.perm, true
		}
	}
	return "", false
}

// consoleRoutes is a ConsoleDaemon that only lists the console routes
// (Permission); it is never called.
type consoleRoutes struct{ ConsoleDaemon }

func (h *handler) whoami(w http.ResponseWriter, r *http.Request) {
	if !h.noQuery(w, r) {
		return
	}
	h.writeJSON(w, http.StatusOK, identityOf(r))
}
