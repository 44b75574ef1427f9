package calls

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"spanrec/firmware/sipflow"
)

// infoDigit reads the digit of a SIP INFO carrying DTMF:
// application/dtmf-relay ("Signal=5") or application/dtmf ("5").
func infoDigit(m *sipflow.Message) (byte, bool) {
	body := strings.TrimSpace(string(m.Body))
	switch strings.ToLower(m.ContentType) {
	case "application/dtmf-relay":
		for _, line := range strings.Split(body, "\n") {
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				return digitByte(strings.TrimSpace(v))
			}
		}
	case "application/dtmf":
		return digitByte(body)
	}
	return 0, false
}

func digitByte(v string) (byte, bool) {
	if len(v) != 1 {
		switch v {
		case "10":
			return '*', true
		case "11":
			return '#', true
		}
		return 0, false
	}
	c := v[0]
	switch {
	case c >= '0' && c <= '9', c == '*', c == '#':
		return c, true
	case c >= 'A' && c <= 'D', c >= 'a' && c <= 'd':
		return c &^ 0x20, true
	}
	return 0, false
}

// sessionExpires returns the session interval of a Session-Expires header
// (RFC 4028), or 0.
func sessionExpires(m *sipflow.Message) time.Duration {
	v := m.Header("Session-Expires")
	if v == "" {
		return 0
	}
	v, _, _ = strings.Cut(v, ";")
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 || n > 86400 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// uriHost returns the host of a SIP URI ("<sip:bob@10.0.0.2:5060;lr>",
// "sip:10.0.0.10;lr") when it is an IP literal.
func uriHost(s string) netip.Addr {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '<'); i >= 0 {
		s = s[i+1:]
		if j := strings.IndexByte(s, '>'); j >= 0 {
			s = s[:j]
		}
	}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[i+1:] // drop the scheme
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexAny(s, ";?>"); i >= 0 {
		s = s[:i]
	}
	if strings.HasPrefix(s, "[") {
		if j := strings.IndexByte(s, ']'); j > 0 {
			s = s[1:j]
		}
	} else if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// addrSet is a bounded set of addresses: two generations, the older one
// dropped when the newer fills up, so memory stays bounded under a flood
// and recently seen addresses are kept.
type addrSet struct {
	limit    int
	cur, old map[netip.AddrPort]struct{}
}

// maxSIPAddrs bounds the SIP addresses remembered (per generation).
const maxSIPAddrs = 32768

func newAddrSet(limit int) addrSet {
	return addrSet{limit: limit, cur: make(map[netip.AddrPort]struct{})}
}

func (s *addrSet) has(a netip.AddrPort) bool {
	if _, ok := s.cur[a]; ok {
		return true
	}
	_, ok := s.old[a]
	return ok
}

func (s *addrSet) add(a netip.AddrPort) {
	if len(s.cur) >= s.limit {
		s.old, s.cur = s.cur, make(map[netip.AddrPort]struct{}, s.limit/4)
	}
	s.cur[a] = struct{}{}
}
