package control

import (
	"spanrec/firmware/index"
	"spanrec/firmware/users"
)

// DefaultAuditEntries is the audit tail's default length.
const DefaultAuditEntries = 20

// AuditLog is the hash-chained audit log: *index.Index.
type AuditLog interface {
	// AppendAudit writes one entry.
	AppendAudit(e index.AuditEntry) (index.AuditEntry, error)
	// AuditTail returns the last n entries, oldest first.
	AuditTail(n int) ([]index.AuditEntry, error)
}

func (h *handler) auditRoutes() []route {
	a, ready := h.s.Audit, h.s.Audit != nil
	return []route{
		rt("GET /v1/audit", users.ViewAudit, serve(h, lastN("audit log", ready, DefaultAuditEntries, MaxRecordingsLimit,
			func(n int) ([]index.AuditEntry, error) { return a.AuditTail(n) }, nil))),
	}
}
