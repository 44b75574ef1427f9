package policy

// PBX describes the watched phone system. The daemon's configuration embeds
// it under the key "pbx". The zero value is valid: no trunks, no special
// numbers, extensions recognised by their short numbers.
type PBX struct {
	// Extensions are the local extensions: numbers ("1000"), ranges of
	// equal-length numbers ("1000-1099") or prefixes ("2*").
	Extensions []string `yaml:"extensions"`
	// Trunks are the SIP peers of the PBX towards the outside world.
	Trunks []Trunk `yaml:"trunks"`
	// Conferences are the conference rooms.
	Conferences []Room `yaml:"conferences"`
	// Queues are the call queues (hunt groups, ACD).
	Queues []Queue `yaml:"queues"`
	// Voicemail are the voicemail access numbers, e.g. "*97", "8500".
	Voicemail []string `yaml:"voicemail"`
	// Paging recognises paging and intercom calls.
	Paging Paging `yaml:"paging"`
}

// Trunk is a SIP peer of the PBX: a carrier or another PBX.
type Trunk struct {
	// Name identifies the trunk in rules and in the index, e.g. "carrier-a".
	Name string `yaml:"name"`
	// Addresses are the peer's signalling addresses: an IP ("192.0.2.10"),
	// an IP with port ("192.0.2.10:5060", "[2001:db8::1]:5060") or a CIDR
	// network ("192.0.2.0/24").
	Addresses []string `yaml:"addresses"`
	// Domains are the peer's SIP domains, e.g. "sip.carrier.example";
	// "*.carrier.example" also matches every subdomain.
	Domains []string `yaml:"domains"`
}

// Room is a conference room.
type Room struct {
	// Number is the room's dial-in number.
	Number string `yaml:"number"`
	// Name is an optional label used in rules and in the index.
	Name string `yaml:"name"`
}

// Queue is a call queue: callers dial its number, the PBX then calls an
// agent. The agent leg is recognised by a header of its INVITE.
type Queue struct {
	// Number is the queue's number.
	Number string `yaml:"number"`
	// Name is an optional label used in rules and in the index.
	Name string `yaml:"name"`
	// AgentHeader names the INVITE header that marks the queue's agent leg,
	// e.g. "X-Queue", "Alert-Info", "Call-Info" or "From" (for PBXs that
	// prefix the caller's display name with the queue name). Empty: agent
	// legs are not recognised.
	AgentHeader string `yaml:"agent_header"`
	// AgentPattern is a regular expression (RE2, case-insensitive, not
	// anchored) on AgentHeader's values that marks this queue's agent leg,
	// e.g. "queue=support". Empty: the header being present is enough.
	AgentPattern string `yaml:"agent_pattern"`
}

// Paging recognises paging and intercom calls, which extension rules do not
// record.
type Paging struct {
	// Numbers are paging group and intercom numbers or prefixes, e.g. "*80*".
	Numbers []string `yaml:"numbers"`
	// Headers are INVITE headers that mark paging/intercom calls, in
	// addition to DefaultPagingHeaders unless NoDefaultHeaders is set.
	Headers []HeaderMatch `yaml:"headers"`
	// NoDefaultHeaders turns DefaultPagingHeaders off.
	NoDefaultHeaders bool `yaml:"no_default_headers"`
}

// HeaderMatch matches one header of an INVITE.
type HeaderMatch struct {
	// Name is the header name, e.g. "Alert-Info" (case-insensitive).
	Name string `yaml:"name"`
	// Pattern is a regular expression (RE2, case-insensitive, not anchored)
	// on each of the header's values. Empty: the header being present
	// matches.
	Pattern string `yaml:"pattern"`
}

// DefaultPagingHeaders returns the headers phones and PBXs use to ask for
// auto-answer (paging, intercom): Alert-Info with "auto-answer",
// "autoanswer" (e.g. "info=alert-autoanswer") or "intercom"; Call-Info with
// "answer-after"; any P-Auto-Answer or Auto-Answer header; Answer-Mode or
// Priv-Answer-Mode "Auto" (RFC 5373).
func DefaultPagingHeaders() []HeaderMatch {
	return []HeaderMatch{
		{Name: "Alert-Info", Pattern: `auto[- ]?answer|intercom`},
		{Name: "Call-Info", Pattern: `answer-after`},
		{Name: "P-Auto-Answer"},
		{Name: "Auto-Answer"},
		{Name: "Answer-Mode", Pattern: `^\s*auto\b`},
		{Name: "Priv-Answer-Mode", Pattern: `^\s*auto\b`},
	}
}

// Rules says what to record. The daemon's configuration embeds it under the
// key "recording". The zero value records every call.
type Rules struct {
	// Extensions: Match is a number, range, prefix or "*".
	Extensions []Rule `yaml:"extensions"`
	// Trunks: Match is a trunk name or "*".
	Trunks []Rule `yaml:"trunks"`
	// Conferences: Match is a room number or name, or "*".
	Conferences []Rule `yaml:"conferences"`
	// Queues: Match is a queue number or name, or "*".
	Queues []Rule `yaml:"queues"`
	// Default decides the calls no rule covers, and the queues and rooms
	// without a rule of their own. Unset: record them only when no rule at
	// all is configured.
	Default *bool `yaml:"default"`
}

// Rule turns recording on or off for what Match selects.
type Rule struct {
	// Match selects extensions, trunks, rooms or queues (see Rules).
	Match string `yaml:"match"`
	// Record is true to record, false to not record.
	Record bool `yaml:"record"`
}

// empty reports whether no rule and no default is configured.
func (r *Rules) empty() bool {
	return r == nil || (len(r.Extensions) == 0 && len(r.Trunks) == 0 &&
		len(r.Conferences) == 0 && len(r.Queues) == 0 && r.Default == nil)
}
