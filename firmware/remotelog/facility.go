package remotelog

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// facilities are the RFC 5424 facility names, by code.
var facilities = [...]string{"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "audit", "alert", "clock",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"}

// ParseFacility returns the code of a facility name (daemon, local0, ...).
func ParseFacility(name string) (int, error) {
	if i := slices.Index(facilities[:], strings.ToLower(name)); i >= 0 {
		return i, nil
	}
	return 0, fmt.Errorf("remotelog: unknown facility %q (daemon, user, local0 ... local7, ...)", name)
}

// Severities of RFC 5424.
const (
	sevError   = 3
	sevWarning = 4
	sevInfo    = 6
	sevDebug   = 7
)

// severity maps a slog level to a syslog severity.
func severity(l slog.Level) int {
	switch {
	case l >= slog.LevelError:
		return sevError
	case l >= slog.LevelWarn:
		return sevWarning
	case l >= slog.LevelInfo:
		return sevInfo
	}
	return sevDebug
}
