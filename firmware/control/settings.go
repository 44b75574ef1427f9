package control

import (
	"strings"

	"spanrec/firmware/users"
)

// Settings are the daemon's configuration.
type Settings interface {
	// Config returns the effective configuration.
	Config() (ConfigInfo, error)
	// SetConfig changes one key of the configuration file (validated
	// first, written atomically) and applies it.
	SetConfig(key, value string) (ConfigChange, error)
}

// ConfigInfo is the effective configuration (GET /v1/config).
type ConfigInfo struct {
	// File is the configuration file ("" when the daemon runs on
	// defaults and flags).
	File string `json:"file"`
	// YAML is the effective configuration: the file with the defaults and
	// the command-line flags applied.
	YAML string `json:"yaml"`
}

// ConfigChange is the result of `config set` (POST /v1/config).
type ConfigChange struct {
	File  string `json:"file"`
	Key   string `json:"key"`
	Value string `json:"value"`
	// Applied tells whether the running daemon applied it (reload).
	Applied bool `json:"applied"`
	// Restart tells whether the key only takes effect at the next start.
	Restart bool `json:"restart"`
}

// configSetBody is the body of POST /v1/config.
type configSetBody struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// secretKey reports whether a configuration key's value must stay out of
// the audit log and the daemon's log.
func secretKey(key string) bool {
	k := strings.ToLower(key)
	for _, s := range []string{"pass", "secret", "token", "credential", "private"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// shownValue is the value of a configuration change as the logs show it.
func shownValue(b configSetBody) string {
	if secretKey(b.Key) {
		return "********"
	}
	return b.Value
}

func (h *handler) settingRoutes() []route {
	s, ready := h.s.Settings, h.s.Settings != nil
	return []route{
		rt("GET /v1/config", users.ViewConfig, serve(h, op[struct{}]{service: "configuration", ready: ready,
			run: func(*request[struct{}]) (any, error) { return s.Config() }})),
		rt("POST /v1/config", users.Configure, serve(h, op[configSetBody]{service: "configuration", ready: ready, body: true,
			check: func(rq *request[configSetBody]) string {
				return checks(checkText("key", rq.Body.Key, maxKeyLen), checkText("value", rq.Body.Value, maxValueLen))
			},
			audit: func(rq *request[configSetBody]) string {
				return "config set " + rq.Body.Key + " " + shownValue(rq.Body)
			},
			run: func(rq *request[configSetBody]) (any, error) {
				ch, err := s.SetConfig(rq.Body.Key, rq.Body.Value)
				ch.Value = shownValue(rq.Body)
				return ch, err
			}})),
	}
}
