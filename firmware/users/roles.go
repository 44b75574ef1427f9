package users

import (
	"fmt"
	"slices"
)

// Role is what an account may do: one of Admin, Technician, Auditor.
type Role string

// The roles of SPEC §6.
const (
	// Admin configures the appliance, deletes recordings, manages users,
	// and may do everything the other roles may.
	Admin Role = "admin"
	// Technician looks after the running appliance: status, live calls,
	// pause/resume, offload, diagnostics, reboot.
	Technician Role = "technician"
	// Auditor examines recordings: list, search, show, verify, and reads
	// the audit log. An auditor cannot pause recording.
	Auditor Role = "auditor"
)

// Roles lists every role, most powerful first.
func Roles() []Role { return []Role{Admin, Technician, Auditor} }

// ParseRole returns the role named s, or an error matching ErrInvalid.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !slices.Contains(Roles(), r) {
		return "", fmt.Errorf("%w: unknown role %q (admin, technician or auditor)", ErrInvalid, s)
	}
	return r, nil
}

// Permission is one kind of action that Can grants to roles.
type Permission string

// The permissions.
const (
	// ViewStatus: status, time, storage, whoami.
	ViewStatus Permission = "view status"
	// ViewCalls: the live calls.
	ViewCalls Permission = "view calls"
	// PauseResume: pause and resume recording.
	PauseResume Permission = "pause and resume recording"
	// Offload: start an offload and see its state.
	Offload Permission = "offload"
	// Diagnostics: log tail, LED self-test.
	Diagnostics Permission = "run diagnostics"
	// Reboot: reboot the appliance.
	Reboot Permission = "reboot"
	// ViewRecordings: list, search and show recordings.
	ViewRecordings Permission = "view recordings"
	// VerifyRecordings: check signatures and the hash chain.
	VerifyRecordings Permission = "verify recordings"
	// ViewAudit: read the audit log.
	ViewAudit Permission = "view the audit log"
	// ViewConfig: show the configuration.
	ViewConfig Permission = "view the configuration"
	// Configure: change the configuration.
	Configure Permission = "configure"
	// ViewQuarantined: see quarantined recordings (no consent prompt
	// heard), which are not there for anyone else.
	ViewQuarantined Permission = "view quarantined recordings"
	// DeleteRecordings: delete recordings.
	DeleteRecordings Permission = "delete recordings"
	// ManageUsers: add, remove, unlock accounts, set roles and passwords.
	ManageUsers Permission = "manage users"
)

// Can reports whether role may do p. An admin may do everything; an
// unknown role nothing.
func Can(role Role, p Permission) bool {
	switch role {
	case Admin:
		return true
	case Technician:
		switch p {
		case ViewStatus, ViewCalls, PauseResume, Offload, Diagnostics, Reboot, ViewConfig:
			return true
		}
	case Auditor:
		switch p {
		case ViewStatus, ViewRecordings, VerifyRecordings, ViewAudit:
			return true
		}
	}
	return false
}
