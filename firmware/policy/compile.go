package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// Errors of Validate and Compile; each reported problem wraps one of them
// and names its configuration key, e.g. "pbx.trunks[0].addresses[1]".
var (
	// ErrBadNumber means a number list entry is empty or has characters
	// that cannot be in a dialled number.
	ErrBadNumber = errors.New("policy: bad number")
	// ErrBadRange means a range is not two equal-length digit strings
	// lower-upper.
	ErrBadRange = errors.New("policy: bad number range")
	// ErrBadAddress means a trunk address is not an IP, IP:port or CIDR.
	ErrBadAddress = errors.New("policy: bad trunk address")
	// ErrBadDomain means a trunk domain is not a host name.
	ErrBadDomain = errors.New("policy: bad trunk domain")
	// ErrBadPattern means a regular expression does not compile.
	ErrBadPattern = errors.New("policy: bad regular expression")
	// ErrBadHeader means a header name is empty or not a SIP token.
	ErrBadHeader = errors.New("policy: bad header name")
	// ErrMissing means a required field is empty.
	ErrMissing = errors.New("policy: missing value")
	// ErrDuplicate means two entries claim the same name or number.
	ErrDuplicate = errors.New("policy: duplicate")
	// ErrUnknown means a rule selects nothing that is configured.
	ErrUnknown = errors.New("policy: rule matches nothing configured")
)

// Policy is a compiled, immutable PBX description plus rules. It is safe for
// concurrent use. Build it with Compile.
type Policy struct {
	extensions numSet
	trunks     []trunk
	rooms      []named
	queues     []queue
	voicemail  numSet
	pagingNums numSet
	pagingHdrs []headerMatch

	empty      bool // nothing configured: record everything
	deflt      bool // Rules.Default (false when unset)
	extRules   []extRule
	trunkRules []nameRule
	roomRules  []nameRule
	queueRules []nameRule
}

// trunk is a compiled Trunk.
type trunk struct {
	name    string
	addrs   []trunkAddr
	domains []string // lower case; a leading "." is a suffix match
}

// trunkAddr is one compiled trunk address: a network and optional port.
type trunkAddr struct {
	net  netip.Prefix
	port uint16
}

// named is a room or queue: its number and the label used in rules,
// classes and decisions (the name, or the number when unnamed).
type named struct {
	number, name, label string
}

// queue is a compiled Queue.
type queue struct {
	named
	header string
	re     *regexp.Regexp // nil: presence of header marks the agent leg
}

// headerMatch is a compiled HeaderMatch.
type headerMatch struct {
	name string
	re   *regexp.Regexp // nil: presence matches
}

// extRule is a compiled extension rule.
type extRule struct {
	pat    numPattern
	record bool
}

// nameRule is a compiled trunk, room or queue rule.
type nameRule struct {
	match  string // "*" for all
	record bool
}

// Validate reports every invalid entry of p and r at once (joined with
// errors.Join; test them with errors.Is).
func Validate(p PBX, r Rules) error {
	_, err := Compile(p, r)
	return err
}

// Compile validates p and r and compiles them. On error the Policy is nil
// and the error lists every problem.
func Compile(p PBX, r Rules) (*Policy, error) {
	pol, errs := compile(&p, &r)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return pol, nil
}

// compileLenient compiles p and r, skipping invalid entries.
func compileLenient(p *PBX, r *Rules) *Policy {
	pol, _ := compile(p, r)
	return pol
}

// compile builds a Policy from the valid entries and returns the problems
// of the invalid ones.
func compile(p *PBX, r *Rules) (*Policy, []error) {
	if p == nil {
		p = &PBX{}
	}
	if r == nil {
		r = &Rules{}
	}
	var errs []error
	bad := func(key string, err error, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %w: %s", key, err, fmt.Sprintf(format, args...)))
	}
	pol := &Policy{empty: r.empty(), deflt: r.Default != nil && *r.Default}

	numbers := func(key string, list []string) numSet {
		var s numSet
		for i, n := range list {
			pat, err := parseNumber(n)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s[%d]: %w", key, i, err))
				continue
			}
			s = append(s, pat)
		}
		return s
	}
	pol.extensions = numbers("pbx.extensions", p.Extensions)
	pol.voicemail = numbers("pbx.voicemail", p.Voicemail)
	pol.pagingNums = numbers("pbx.paging.numbers", p.Paging.Numbers)

	// Trunks.
	trunkNames := map[string]bool{}
	for i, t := range p.Trunks {
		key := fmt.Sprintf("pbx.trunks[%d]", i)
		name := strings.TrimSpace(t.Name)
		switch {
		case name == "":
			bad(key+".name", ErrMissing, "every trunk needs a name")
		case trunkNames[strings.ToLower(name)]:
			bad(key+".name", ErrDuplicate, "trunk %q", name)
		}
		trunkNames[strings.ToLower(name)] = true
		if len(t.Addresses) == 0 && len(t.Domains) == 0 {
			bad(key, ErrMissing, "trunk %q has neither addresses nor domains", name)
		}
		ct := trunk{name: name}
		for j, a := range t.Addresses {
			ta, ok := parseTrunkAddr(a)
			if !ok {
				bad(fmt.Sprintf("%s.addresses[%d]", key, j), ErrBadAddress, "%q (want IP, IP:port or CIDR)", a)
				continue
			}
			ct.addrs = append(ct.addrs, ta)
		}
		for j, d := range t.Domains {
			cd, ok := parseDomain(d)
			if !ok {
				bad(fmt.Sprintf("%s.domains[%d]", key, j), ErrBadDomain, "%q", d)
				continue
			}
			ct.domains = append(ct.domains, cd)
		}
		pol.trunks = append(pol.trunks, ct)
	}

	// Special numbers: rooms, queues, voicemail, paging must not share one.
	special := map[string]string{} // exact number -> what it is
	labels := map[string]string{}  // lower-case room/queue label or number -> what
	claim := func(key, number, what string) {
		if prev, ok := special[number]; ok {
			bad(key, ErrDuplicate, "number %q is both %s and %s", number, prev, what)
			return
		}
		special[number] = what
	}
	claimLabel := func(key, label, what string) {
		l := strings.ToLower(label)
		if prev, ok := labels[l]; ok && prev != what {
			bad(key, ErrDuplicate, "%q names both %s and %s", label, prev, what)
			return
		}
		labels[l] = what
	}
	room := func(key, number, name, kind string) (named, bool) {
		number, name = strings.TrimSpace(number), strings.TrimSpace(name)
		pat, err := parseNumber(number)
		switch {
		case number == "":
			bad(key+".number", ErrMissing, "every %s needs a number", kind)
			return named{}, false
		case err != nil:
			errs = append(errs, fmt.Errorf("%s.number: %w", key, err))
			return named{}, false
		case pat.kind != numExact:
			bad(key+".number", ErrBadNumber, "%q: a %s number must be exact", number, kind)
			return named{}, false
		}
		n := named{number: number, name: name, label: number}
		if name != "" {
			n.label = name
		}
		what := fmt.Sprintf("%s %s", kind, n.label)
		claim(key+".number", number, what)
		claimLabel(key+".number", number, what)
		if name != "" {
			claimLabel(key+".name", name, what)
		}
		return n, true
	}
	for i, c := range p.Conferences {
		if n, ok := room(fmt.Sprintf("pbx.conferences[%d]", i), c.Number, c.Name, "conference"); ok {
			pol.rooms = append(pol.rooms, n)
		}
	}
	for i, q := range p.Queues {
		key := fmt.Sprintf("pbx.queues[%d]", i)
		n, ok := room(key, q.Number, q.Name, "queue")
		if !ok {
			continue
		}
		cq := queue{named: n, header: strings.TrimSpace(q.AgentHeader)}
		if cq.header != "" && !validHeaderName(cq.header) {
			bad(key+".agent_header", ErrBadHeader, "%q", q.AgentHeader)
			cq.header = ""
		}
		if q.AgentPattern != "" {
			if q.AgentHeader == "" {
				bad(key+".agent_pattern", ErrMissing, "agent_pattern needs agent_header")
			}
			re, err := regexp.Compile("(?i)" + q.AgentPattern)
			if err != nil {
				bad(key+".agent_pattern", ErrBadPattern, "%q: %v", q.AgentPattern, err)
				cq.header = ""
			}
			cq.re = re
		}
		pol.queues = append(pol.queues, cq)
	}
	for i, pat := range pol.voicemail {
		if pat.kind == numExact {
			claim(fmt.Sprintf("pbx.voicemail[%d]", i), pat.lo, "voicemail")
		}
	}
	for i, pat := range pol.pagingNums {
		if pat.kind == numExact {
			claim(fmt.Sprintf("pbx.paging.numbers[%d]", i), pat.lo, "paging")
		}
	}

	hdrs := p.Paging.Headers
	if !p.Paging.NoDefaultHeaders {
		hdrs = append(DefaultPagingHeaders(), hdrs...)
	}
	for i, h := range hdrs {
		key := fmt.Sprintf("pbx.paging.headers[%d]", i-(len(hdrs)-len(p.Paging.Headers)))
		name := strings.TrimSpace(h.Name)
		if !validHeaderName(name) {
			bad(key+".name", ErrBadHeader, "%q", h.Name)
			continue
		}
		hm := headerMatch{name: name}
		if h.Pattern != "" {
			re, err := regexp.Compile("(?i)" + h.Pattern)
			if err != nil {
				bad(key+".pattern", ErrBadPattern, "%q: %v", h.Pattern, err)
				continue
			}
			hm.re = re
		}
		pol.pagingHdrs = append(pol.pagingHdrs, hm)
	}

	// Rules.
	seen := map[string]bool{}
	for i, rule := range r.Extensions {
		key := fmt.Sprintf("recording.extensions[%d].match", i)
		pat, err := parseNumber(rule.Match)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
			continue
		}
		if seen[pat.String()] {
			bad(key, ErrDuplicate, "extension rule %q", rule.Match)
			continue
		}
		seen[pat.String()] = true
		if len(pol.extensions) > 0 && pat.lo != "" && !anyOverlap(pat, pol.extensions) {
			bad(key, ErrUnknown, "%q is no configured extension", rule.Match)
		}
		pol.extRules = append(pol.extRules, extRule{pat: pat, record: rule.Record})
	}
	nameRules := func(kind string, rules []Rule, known func(string) bool) []nameRule {
		var out []nameRule
		seen := map[string]bool{}
		for i, rule := range rules {
			key := fmt.Sprintf("recording.%ss[%d].match", kind, i)
			m := strings.TrimSpace(rule.Match)
			switch {
			case m == "":
				bad(key, ErrMissing, "empty %s rule", kind)
				continue
			case seen[strings.ToLower(m)]:
				bad(key, ErrDuplicate, "%s rule %q", kind, m)
				continue
			case m != "*" && !known(m):
				bad(key, ErrUnknown, "no %s %q is configured", kind, m)
			}
			seen[strings.ToLower(m)] = true
			out = append(out, nameRule{match: m, record: rule.Record})
		}
		return out
	}
	pol.trunkRules = nameRules("trunk", r.Trunks, func(m string) bool { return trunkNames[strings.ToLower(m)] })
	pol.roomRules = nameRules("conference", r.Conferences, func(m string) bool { return findNamed(roomsOf(pol.rooms), m) != nil })
	pol.queueRules = nameRules("queue", r.Queues, func(m string) bool { return findNamed(queuesOf(pol.queues), m) != nil })
	return pol, errs
}

// anyOverlap reports whether pat can match a number of set.
func anyOverlap(pat numPattern, set numSet) bool {
	for _, s := range set {
		if overlaps(pat, s) {
			return true
		}
	}
	return false
}

// parseTrunkAddr parses an IP, IP:port or CIDR.
func parseTrunkAddr(s string) (trunkAddr, bool) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		a := ap.Addr().Unmap()
		return trunkAddr{net: netip.PrefixFrom(a, a.BitLen()), port: ap.Port()}, ap.Port() != 0
	}
	if pfx, err := netip.ParsePrefix(s); err == nil {
		a := pfx.Addr().Unmap()
		bits := pfx.Bits()
		if pfx.Addr().Is4In6() {
			bits -= 96
			if bits < 0 {
				return trunkAddr{}, false
			}
		}
		return trunkAddr{net: netip.PrefixFrom(a, bits).Masked()}, true
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		a = a.Unmap()
		return trunkAddr{net: netip.PrefixFrom(a, a.BitLen())}, true
	}
	return trunkAddr{}, false
}

// match reports whether ap is this trunk address.
func (t trunkAddr) match(ap netip.AddrPort) bool {
	return ap.IsValid() && t.net.Contains(ap.Addr().Unmap()) && (t.port == 0 || t.port == ap.Port())
}

// parseDomain returns a host name in lower case; "*.x" and ".x" become
// ".x" (suffix match).
func parseDomain(s string) (string, bool) {
	d := strings.ToLower(strings.TrimSpace(s))
	d = strings.TrimPrefix(d, "*")
	body := strings.TrimPrefix(d, ".")
	if body == "" || strings.HasSuffix(body, ".") || strings.Contains(body, "..") {
		return "", false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']') {
			return "", false
		}
	}
	return d, true
}

// validHeaderName reports whether s is a SIP header name (an RFC 3261
// token).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-.!%*_+`'~", c) >= 0) {
			return false
		}
	}
	return true
}

// roomsOf returns the named entries of rooms.
func roomsOf(rooms []named) []named { return rooms }

// queuesOf returns the named part of each queue.
func queuesOf(qs []queue) []named {
	out := make([]named, len(qs))
	for i, q := range qs {
		out[i] = q.named
	}
	return out
}

// findNamed returns the entry whose number or name (case-insensitive) is m.
func findNamed(list []named, m string) *named {
	for i := range list {
		if list[i].number == m || (list[i].name != "" && strings.EqualFold(list[i].name, m)) {
			return &list[i]
		}
	}
	return nil
}
