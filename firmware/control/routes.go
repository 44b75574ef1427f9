package control

import (
	"net/http"
	"slices"

	"spanrec/firmware/users"
)

// route is one endpoint: its pattern, the permission it needs (the one
// home of that fact, see routes) and its handler.
type route struct {
	pattern string
	perm    users.Permission
	// self lets a console session call it without perm on its own
	// account ({name} is the session's account): changing one's own
	// password, which the handler checks against the current one.
	self   bool
	handle http.HandlerFunc
}

func rt(pattern string, perm users.Permission, handle http.HandlerFunc) route {
	return route{pattern: pattern, perm: perm, handle: handle}
}

// public marks the endpoints any peer may call, even one without a role:
// those a console needs to log in and out.
const public users.Permission = "(anyone)"

// routes is every endpoint with the permission it needs: the one place
// that says who may call what (users.Can says which roles hold a
// permission), by resource. The console's checks only spare a round
// trip; this table is what is enforced. Every route exists whatever
// services the server has: one whose service is missing answers 501.
//
//	GET    /v1/status                            Status
//	GET    /v1/calls                             []Call
//	POST   /v1/calls/{id}/pause                  pause a call ("all": every call)
//	POST   /v1/calls/{id}/resume                 resume it
//	GET    /v1/recordings?q=TEXT&limit=N&all=1   []index.Call, newest first
//	GET    /v1/recordings/{id}                   index.Call
//	GET    /v1/recordings/{id}/verify            Verification ("all": everything)
//	DELETE /v1/recordings/{id}                   {"ok": true} (admin; audited with the deletion)
//	POST   /v1/login          {"name","password"}  LoginResult (401 "login incorrect")
//	GET    /v1/login                             {"required": bool}
//	POST   /v1/logout                            ends the request's session
//	GET    /v1/whoami                            Identity
//	GET    /v1/users                             []users.User (never a hash)
//	POST   /v1/users          {"name","role","password"}
//	DELETE /v1/users/{name}
//	POST   /v1/users/{name}/password {"password","current"}
//	POST   /v1/users/{name}/role     {"role"}
//	POST   /v1/users/{name}/unlock
//	GET    /v1/config                            ConfigInfo
//	POST   /v1/config         {"key","value"}    ConfigChange
//	GET    /v1/storage                           StorageInfo
//	GET    /v1/time                              TimeInfo
//	POST   /v1/reboot                            {"ok": true}
//	GET    /v1/log?n=N                           {"lines": [...]}
//	POST   /v1/led/test                          {"ok": true} when the test is over
//	GET    /v1/offload                           OffloadStatus
//	POST   /v1/offload/now                       {"ok": true}
//	GET    /v1/audit?n=N                         []index.AuditEntry, oldest first
func (h *handler) routes() []route {
	return slices.Concat(h.callRoutes(), h.recordingRoutes(), h.accountRoutes(), h.settingRoutes(),
		h.applianceRoutes(), h.auditRoutes())
}

// Permission returns the permission the endpoint pattern ("POST
// /v1/users") needs, and whether there is such an endpoint; "(anyone)"
// for those open to every peer. For documentation and tests, and the
// web UI's pages.
func Permission(pattern string) (users.Permission, bool) {
	for _, rt := range (&handler{}).routes() {
		if rt.pattern == pattern {
			return rt.perm, true
		}
	}
	return "", false
}
