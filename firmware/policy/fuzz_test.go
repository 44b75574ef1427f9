package policy

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzCompile feeds arbitrary configuration text to Compile and a call to
// the result: invalid entries give errors, nothing panics, and a valid
// configuration's decisions are consistent.
func FuzzCompile(f *testing.F) {
	f.Add("1000-1099", "203.0.113.0/24", "*.carrier.example", "queue=support", "1000", "1050", "600")
	f.Add("12*", "[2001:db8::1]:5060", "sip.example", "(", "1099-1000", "+4930", "*97")
	f.Add("", "10.0.0.0/33", "bad domain", "[a", "*", "", "")
	f.Fuzz(func(t *testing.T, ext, addr, domain, pattern, rule, caller, callee string) {
		p := PBX{
			Extensions: []string{ext},
			Trunks:     []Trunk{{Name: "t", Addresses: []string{addr}, Domains: []string{domain}}},
			Queues:     []Queue{{Number: "600", AgentHeader: "X-Queue", AgentPattern: pattern}},
			Voicemail:  []string{"*97"},
		}
		r := Rules{Extensions: []Rule{{Match: rule, Record: true}}, Queues: []Rule{{Match: "600", Record: false}}}
		call := CallInfo{Caller: caller, Callee: callee, Dialed: callee, CallerHost: domain,
			From: netip.MustParseAddrPort("203.0.113.7:5060"), Header: headers("X-Queue", pattern)}
		pol, err := Compile(p, r)
		cl := Classify(&p, call) // lenient, must not panic
		d := Decide(&p, &r, cl)
		if d.Record == (d.Reason != "") || d.Record != (d.Rule != "") {
			t.Fatalf("inconsistent decision %+v", d)
		}
		if err != nil {
			return
		}
		if got := pol.Classify(call); len(got.Extensions) != len(cl.Extensions) || got.Direction != cl.Direction {
			t.Fatalf("compiled %+v != lenient %+v", got, cl)
		}
		if cl.Queue != "" && d.Record {
			t.Fatalf("queue with recording off recorded: %+v %+v", cl, d)
		}
	})
}

// FuzzParseNumber checks that a parsed number pattern prints back to a
// pattern that parses the same and matches what it printed.
func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"1000", "1000-1099", "*97", "*80*", "*", "12*", "1099-1000", "100-1099", "1-", "-1", "+4930"} {
		f.Add(s, "1050")
	}
	f.Fuzz(func(t *testing.T, s, n string) {
		p, err := parseNumber(s)
		if err != nil {
			return
		}
		q, err := parseNumber(p.String())
		if err != nil || q != p {
			t.Fatalf("%q -> %q -> %+v, %v", s, p.String(), q, err)
		}
		if p.kind == numExact && !p.match(strings.TrimSpace(s)) {
			t.Fatalf("exact %q does not match itself", s)
		}
		if p.kind == numRange && (!p.match(p.lo) || !p.match(p.hi)) {
			t.Fatalf("range %q does not match its bounds", s)
		}
		_ = p.match(n)
	})
}
