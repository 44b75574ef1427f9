package policy

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"
)

// Addresses of the test network: the PBX, two phones, the carriers.
var (
	pbxAddr   = netip.MustParseAddrPort("10.0.0.1:5060")
	phoneA    = netip.MustParseAddrPort("10.0.1.10:5060")
	phoneB    = netip.MustParseAddrPort("10.0.1.11:5060")
	carrierA  = netip.MustParseAddrPort("203.0.113.10:5060")
	carrierA2 = netip.MustParseAddrPort("198.51.100.77:5080")
	carrierB  = netip.MustParseAddrPort("[2001:db8::5]:5060")
	elsewhere = netip.MustParseAddrPort("192.0.2.99:5060")
)

// testPBX is the phone system of the tests.
func testPBX() PBX {
	return PBX{
		Extensions: []string{"1000-1099", "2000"},
		Trunks: []Trunk{
			{Name: "carrier-a", Addresses: []string{"203.0.113.10", "198.51.100.0/24"}, Domains: []string{"sip.carrier-a.example"}},
			{Name: "carrier-b", Addresses: []string{"[2001:db8::5]:5060"}, Domains: []string{"*.carrier-b.example"}},
		},
		Conferences: []Room{{Number: "800", Name: "board"}, {Number: "801"}},
		Queues: []Queue{
			{Number: "600", Name: "support", AgentHeader: "X-Queue", AgentPattern: "queue=support"},
			{Number: "601", Name: "sales", AgentHeader: "Alert-Info", AgentPattern: `queue-sales`},
		},
		Voicemail: []string{"*97", "8500"},
		Paging:    Paging{Numbers: []string{"*80*", "700"}},
	}
}

// headers returns a case-insensitive header lookup over name/value pairs.
func headers(kv ...string) func(string) []string {
	return func(name string) []string {
		var out []string
		for i := 0; i+1 < len(kv); i += 2 {
			if strings.EqualFold(kv[i], name) {
				out = append(out, kv[i+1])
			}
		}
		return out
	}
}

// Calls of the tests.
var (
	internalCall = CallInfo{Caller: "1000", Callee: "1001", Dialed: "1001", From: phoneA, To: pbxAddr}
	internalLeg2 = CallInfo{Caller: "1000", Callee: "1001", Dialed: "1001", From: pbxAddr, To: phoneB}
	otherIntern  = CallInfo{Caller: "1001", Callee: "1002", Dialed: "1002", From: phoneB, To: pbxAddr}
	inboundTrunk = CallInfo{Caller: "+4930555123", Callee: "+4930999100", Dialed: "+4930999100", From: carrierA, To: pbxAddr}
	inboundPhone = CallInfo{Caller: "+4930555123", Callee: "1000", Dialed: "1000", From: pbxAddr, To: phoneA}
	outboundA    = CallInfo{Caller: "1000", Callee: "01715551234", Dialed: "01715551234", From: pbxAddr, To: carrierA}
	outboundB    = CallInfo{Caller: "1001", Callee: "+33155512", Dialed: "+33155512", From: pbxAddr, To: carrierB}
	outboundLeg  = CallInfo{Caller: "1000", Callee: "01715551234", Dialed: "01715551234", From: phoneA, To: pbxAddr}
	toQueue      = CallInfo{Caller: "1050", Callee: "600", Dialed: "600", From: phoneB, To: pbxAddr}
	extToQueue   = CallInfo{Caller: "+4930555123", Callee: "600", Dialed: "600", From: carrierA, To: pbxAddr}
	agentLeg     = CallInfo{Caller: "+4930555123", Callee: "1000", Dialed: "1000", From: pbxAddr, To: phoneA,
		Header: headers("X-Queue", "queue=support;position=1")}
	salesAgent = CallInfo{Caller: "+4930555123", Callee: "1001", Dialed: "1001", From: pbxAddr, To: phoneB,
		Header: headers("Alert-Info", "<http://pbx/ring>;info=queue-sales")}
	toBoard   = CallInfo{Caller: "1000", Callee: "800", Dialed: "800", From: phoneA, To: pbxAddr}
	toRoom801 = CallInfo{Caller: "1000", Callee: "801", Dialed: "801", From: phoneA, To: pbxAddr}
	toVM      = CallInfo{Caller: "1000", Callee: "*97", Dialed: "*97", From: phoneA, To: pbxAddr}
	vmOnTrunk = CallInfo{Caller: "+4930555123", Callee: "8500", Dialed: "8500", From: carrierA, To: pbxAddr}
	pageNum   = CallInfo{Caller: "1000", Callee: "700", Dialed: "700", From: phoneA, To: pbxAddr}
	pageHdr   = CallInfo{Caller: "1000", Callee: "1001", Dialed: "1001", From: pbxAddr, To: phoneB,
		Header: headers("Alert-Info", "<http://127.0.0.1>;info=alert-autoanswer")}
	pagedTo1000 = CallInfo{Caller: "1001", Callee: "1000", Dialed: "1000", From: pbxAddr, To: phoneA,
		Header: headers("Call-Info", "<sip:10.0.0.1>;answer-after=0")}
)

func TestClassify(t *testing.T) {
	p := testPBX()
	tests := []struct {
		name string
		call CallInfo
		want Class
	}{
		{"internal phone to PBX", internalCall, Class{Direction: Internal, Extensions: []string{"1000", "1001"}}},
		{"internal PBX to phone", internalLeg2, Class{Direction: Internal, Extensions: []string{"1000", "1001"}}},
		{"single extension outside the range", CallInfo{Caller: "2000", Callee: "1099", From: phoneA, To: pbxAddr},
			Class{Direction: Internal, Extensions: []string{"2000", "1099"}}},
		{"inbound from trunk address", inboundTrunk, Class{Direction: Inbound, Trunk: "carrier-a"}},
		{"inbound from trunk CIDR", CallInfo{Caller: "+4930555123", Callee: "1000", From: carrierA2, To: pbxAddr},
			Class{Direction: Inbound, Trunk: "carrier-a", Extensions: []string{"1000"}}},
		{"inbound from IPv4-mapped trunk address", CallInfo{Caller: "x", Callee: "1000",
			From: netip.MustParseAddrPort("[::ffff:203.0.113.10]:5060"), To: pbxAddr},
			Class{Direction: Inbound, Trunk: "carrier-a", Extensions: []string{"1000"}}},
		{"inbound from IPv6 trunk with port", CallInfo{Caller: "+33155512", Callee: "1000", From: carrierB, To: pbxAddr},
			Class{Direction: Inbound, Trunk: "carrier-b", Extensions: []string{"1000"}}},
		{"trunk port must match", CallInfo{Caller: "+33155512", Callee: "1000",
			From: netip.MustParseAddrPort("[2001:db8::5]:5070"), To: pbxAddr},
			Class{Direction: Inbound, Extensions: []string{"1000"}}},
		{"inbound leg PBX to phone", inboundPhone, Class{Direction: Inbound, Extensions: []string{"1000"}}},
		{"outbound to trunk", outboundA, Class{Direction: Outbound, Trunk: "carrier-a", Extensions: []string{"1000"}}},
		{"outbound to IPv6 trunk", outboundB, Class{Direction: Outbound, Trunk: "carrier-b", Extensions: []string{"1001"}}},
		{"outbound leg phone to PBX", outboundLeg, Class{Direction: Outbound, Extensions: []string{"1000"}}},
		{"inbound by From domain", CallInfo{Caller: "+4930555123", Callee: "1000", CallerHost: "SIP.carrier-a.example",
			CalleeHost: "10.0.0.1", From: elsewhere, To: pbxAddr},
			Class{Direction: Inbound, Trunk: "carrier-a", Extensions: []string{"1000"}}},
		{"outbound by To subdomain", CallInfo{Caller: "1000", Callee: "+33155512", CallerHost: "pbx.local",
			CalleeHost: "edge1.carrier-b.example:5060", From: pbxAddr, To: elsewhere},
			Class{Direction: Outbound, Trunk: "carrier-b", Extensions: []string{"1000"}}},
		{"carrier domain on both sides, local caller", CallInfo{Caller: "1000", Callee: "+4930555123",
			CallerHost: "sip.carrier-a.example", CalleeHost: "sip.carrier-a.example", From: pbxAddr, To: elsewhere},
			Class{Direction: Outbound, Trunk: "carrier-a", Extensions: []string{"1000"}}},
		{"carrier domain on both sides, external caller", CallInfo{Caller: "+4930555123", Callee: "+4930999100",
			CallerHost: "sip.carrier-a.example", CalleeHost: "sip.carrier-a.example", From: elsewhere, To: pbxAddr},
			Class{Direction: Inbound, Trunk: "carrier-a"}},
		{"address beats domain", CallInfo{Caller: "1000", Callee: "+4930555123", CallerHost: "sip.carrier-a.example",
			From: pbxAddr, To: carrierB},
			Class{Direction: Outbound, Trunk: "carrier-b", Extensions: []string{"1000"}}},
		{"no local party", CallInfo{Caller: "+4930555123", Callee: "+33155512", From: elsewhere, To: pbxAddr},
			Class{Direction: Unknown}},
		{"number with URI parameters", CallInfo{Caller: "1000;phone-context=pbx", Callee: " 1001 ", From: phoneA, To: pbxAddr},
			Class{Direction: Internal, Extensions: []string{"1000", "1001"}}},
		{"forwarded: To and Request-URI differ", CallInfo{Caller: "1000", Callee: "1001", Dialed: "1002", From: pbxAddr, To: phoneB},
			Class{Direction: Internal, Extensions: []string{"1000", "1001", "1002"}}},
		{"caller to queue", toQueue, Class{Direction: Internal, Extensions: []string{"1050"}, Queue: "support", QueueLeg: LegCallerToQueue}},
		{"external caller to queue on trunk", extToQueue, Class{Direction: Inbound, Trunk: "carrier-a", Queue: "support", QueueLeg: LegCallerToQueue}},
		{"agent leg by X-Queue", agentLeg, Class{Direction: Inbound, Extensions: []string{"1000"}, Queue: "support", QueueLeg: LegAgent}},
		{"agent leg by Alert-Info", salesAgent, Class{Direction: Inbound, Extensions: []string{"1001"}, Queue: "sales", QueueLeg: LegAgent}},
		{"agent header of another queue", CallInfo{Caller: "x", Callee: "1000", From: pbxAddr, To: phoneA,
			Header: headers("X-Queue", "queue=billing")}, Class{Direction: Inbound, Extensions: []string{"1000"}}},
		{"conference by name", toBoard, Class{Direction: Internal, Extensions: []string{"1000"}, Conference: "board"}},
		{"conference without name", toRoom801, Class{Direction: Internal, Extensions: []string{"1000"}, Conference: "801"}},
		{"voicemail star code", toVM, Class{Direction: Internal, Extensions: []string{"1000"}, Voicemail: true}},
		{"voicemail from trunk", vmOnTrunk, Class{Direction: Inbound, Trunk: "carrier-a", Voicemail: true}},
		{"voicemail by Request-URI only", CallInfo{Caller: "1001", Callee: "1000", Dialed: "8500", From: pbxAddr, To: elsewhere},
			Class{Direction: Internal, Extensions: []string{"1001", "1000"}, Voicemail: true}},
		{"paging number", pageNum, Class{Direction: Internal, Extensions: []string{"1000"}, Paging: true}},
		{"intercom prefix", CallInfo{Caller: "1000", Callee: "*801001", From: phoneA, To: pbxAddr},
			Class{Direction: Internal, Extensions: []string{"1000"}, Paging: true}},
		{"paging by Alert-Info", pageHdr, Class{Direction: Internal, Extensions: []string{"1000", "1001"}, Paging: true}},
		{"paging by Call-Info answer-after", pagedTo1000, Class{Direction: Internal, Extensions: []string{"1001", "1000"}, Paging: true}},
		{"paging by Alert-Info intercom", CallInfo{Caller: "1000", Callee: "1001", Header: headers("alert-info", "<sip:x>;info=Intercom")},
			Class{Direction: Internal, Extensions: []string{"1000", "1001"}, Paging: true}},
		{"paging by P-Auto-Answer", CallInfo{Caller: "1000", Callee: "1001", Header: headers("P-Auto-Answer", "normal")},
			Class{Direction: Internal, Extensions: []string{"1000", "1001"}, Paging: true}},
		{"paging by Answer-Mode", CallInfo{Caller: "1000", Callee: "1001", Header: headers("Answer-Mode", "Auto;require")},
			Class{Direction: Internal, Extensions: []string{"1000", "1001"}, Paging: true}},
		{"Answer-Mode Manual is no paging", CallInfo{Caller: "1000", Callee: "1001", Header: headers("Answer-Mode", "Manual")},
			Class{Direction: Internal, Extensions: []string{"1000", "1001"}}},
		{"ordinary Alert-Info is no paging", CallInfo{Caller: "1000", Callee: "1001", Header: headers("Alert-Info", "<http://x>;info=ring2")},
			Class{Direction: Internal, Extensions: []string{"1000", "1001"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(&p, tt.call); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Classify =\n %+v, want\n %+v", got, tt.want)
			}
		})
	}
}

func TestClassifyPagingHeaderConfig(t *testing.T) {
	p := PBX{Paging: Paging{NoDefaultHeaders: true, Headers: []HeaderMatch{{Name: "X-Page", Pattern: "^yes$"}}}}
	call := CallInfo{Caller: "1000", Callee: "1001", Header: headers("Alert-Info", "info=alert-autoanswer", "X-Page", "YES")}
	if !Classify(&p, call).Paging {
		t.Error("X-Page: YES is a configured paging header")
	}
	call.Header = headers("Alert-Info", "info=alert-autoanswer")
	if Classify(&p, call).Paging {
		t.Error("defaults are off but Alert-Info auto-answer counted as paging")
	}
}

func TestClassifyWithoutExtensions(t *testing.T) {
	p := PBX{Trunks: []Trunk{{Name: "t", Addresses: []string{"203.0.113.10"}}}}
	tests := []struct {
		call CallInfo
		want Class
	}{
		{CallInfo{Caller: "201", Callee: "202"}, Class{Direction: Internal, Extensions: []string{"201", "202"}}},
		{CallInfo{Caller: "+4930555123", Callee: "201"}, Class{Direction: Inbound, Extensions: []string{"201"}}},
		{CallInfo{Caller: "201", Callee: "00491715551234"}, Class{Direction: Outbound, Extensions: []string{"201"}}},
		{CallInfo{Caller: "alice", Callee: "bob"}, Class{Direction: Unknown}},
		{CallInfo{Caller: "201", Callee: "0171555", From: pbxAddr, To: carrierA}, Class{Direction: Outbound, Trunk: "t", Extensions: []string{"201"}}},
	}
	for _, tt := range tests {
		if got := Classify(&p, tt.call); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Classify(%+v) = %+v, want %+v", tt.call, got, tt.want)
		}
	}
	if got := Classify(nil, CallInfo{Caller: "201", Callee: "202"}); got.Direction != Internal {
		t.Errorf("nil PBX: %+v", got)
	}
}

// on returns a pointer to b.
func on(b bool) *bool { return &b }

func TestDecide(t *testing.T) {
	p := testPBX()
	ext := func(match string, rec bool) Rule { return Rule{Match: match, Record: rec} }
	type check struct {
		call   CallInfo
		record bool
		rule   string // when recorded
		reason string // substring, when not recorded
	}
	tests := []struct {
		name   string
		rules  Rules
		checks []check
	}{
		{"nothing configured records every call", Rules{}, []check{
			{call: internalCall, record: true, rule: RuleRecordAll},
			{call: inboundTrunk, record: true, rule: RuleRecordAll},
			{call: outboundA, record: true, rule: RuleRecordAll},
			{call: agentLeg, record: true, rule: RuleRecordAll},
			{call: toBoard, record: true, rule: RuleRecordAll},
			{call: toVM, record: true, rule: RuleRecordAll},
			{call: pageHdr, record: true, rule: RuleRecordAll},
			{call: CallInfo{}, record: true, rule: RuleRecordAll},
		}},
		{"extension: all its calls, internal and external", Rules{Extensions: []Rule{ext("1000", true)}}, []check{
			{call: internalCall, record: true, rule: "extension:1000"},
			{call: internalLeg2, record: true, rule: "extension:1000"},
			{call: CallInfo{Caller: "1001", Callee: "1000", From: phoneB, To: pbxAddr}, record: true, rule: "extension:1000"},
			{call: inboundPhone, record: true, rule: "extension:1000"},
			{call: outboundLeg, record: true, rule: "extension:1000"},
			{call: outboundA, record: true, rule: "extension:1000"},
			{call: otherIntern, reason: "no recording rule covers this call (extension 1001, extension 1002)"},
			{call: inboundTrunk, reason: "no recording rule covers this call (trunk carrier-a)"},
			{call: outboundB, reason: "no recording rule covers this call"},
		}},
		{"extension: no paging or intercom calls", Rules{Extensions: []Rule{ext("1000", true)}}, []check{
			{call: pageNum, reason: "paging call of extension 1000"},
			{call: pageHdr, reason: "paging call of extension 1000"},
			{call: pagedTo1000, reason: "paging call of extension 1000"},
			{call: CallInfo{Caller: "1000", Callee: "*801001", From: phoneA, To: pbxAddr}, reason: "paging call of extension 1000"},
		}},
		{"extension: no voicemail calls", Rules{Extensions: []Rule{ext("1000", true)}}, []check{
			{call: toVM, reason: "voicemail call of extension 1000"},
			{call: CallInfo{Caller: "1001", Callee: "1000", Dialed: "8500", From: pbxAddr, To: elsewhere}, reason: "voicemail call of extension 1000"},
		}},
		{"extension range with a more specific exception", Rules{Extensions: []Rule{ext("1000-1099", true), ext("1005", false)}}, []check{
			{call: CallInfo{Caller: "1004", Callee: "2000"}, record: true, rule: "extension:1004"},
			{call: CallInfo{Caller: "1005", Callee: "+4930555123", From: pbxAddr, To: carrierA}, reason: "extension 1005 has recording off"},
			{call: CallInfo{Caller: "2000", Callee: "1005"}, reason: "extension 1005 has recording off"},
		}},
		{"narrower range beats wider, prefix and star", Rules{Extensions: []Rule{ext("*", true), ext("10*", false), ext("1000-1099", true), ext("1050-1059", false)}}, []check{
			{call: CallInfo{Caller: "1051", Callee: "+4930555123"}, reason: "extension 1051 has recording off"},
			{call: CallInfo{Caller: "1049", Callee: "+4930555123"}, record: true, rule: "extension:1049"},
			{call: CallInfo{Caller: "2000", Callee: "+4930555123"}, record: true, rule: "extension:2000"},
		}},
		{"several rules: any on records", Rules{Extensions: []Rule{ext("1000", true), ext("1001", false)}}, []check{
			{call: internalCall, record: true, rule: "extension:1000"},
			{call: CallInfo{Caller: "1001", Callee: "1000"}, record: true, rule: "extension:1000"},
			{call: otherIntern, reason: "extension 1001 has recording off"},
		}},
		{"trunk: all calls on it, inbound and outbound", Rules{Trunks: []Rule{{Match: "carrier-a", Record: true}}}, []check{
			{call: inboundTrunk, record: true, rule: "trunk:carrier-a"},
			{call: outboundA, record: true, rule: "trunk:carrier-a"},
			{call: vmOnTrunk, record: true, rule: "trunk:carrier-a"},
			{call: outboundB, reason: "no recording rule covers this call (extension 1001, trunk carrier-b)"},
			{call: internalCall, reason: "no recording rule covers this call"},
		}},
		{"trunk off does not veto extension on", Rules{Trunks: []Rule{{Match: "*", Record: false}}, Extensions: []Rule{ext("1000", true)}}, []check{
			{call: outboundA, record: true, rule: "extension:1000"},
			{call: outboundB, reason: "trunk carrier-b has recording off"},
		}},
		{"trunk star", Rules{Trunks: []Rule{{Match: "*", Record: true}}}, []check{
			{call: inboundTrunk, record: true, rule: "trunk:carrier-a"},
			{call: outboundB, record: true, rule: "trunk:carrier-b"},
		}},
		{"conference: calls to the room number", Rules{Conferences: []Rule{{Match: "board", Record: true}}}, []check{
			{call: toBoard, record: true, rule: "conference:board"},
			{call: CallInfo{Caller: "+4930555123", Callee: "800", From: carrierA, To: pbxAddr}, record: true, rule: "conference:board"},
			{call: toRoom801, reason: "conference 801 has recording off (no rule for it)"},
			{call: internalCall, reason: "no recording rule covers this call"},
		}},
		{"conference rule by number", Rules{Conferences: []Rule{{Match: "800", Record: true}, {Match: "801", Record: false}}}, []check{
			{call: toBoard, record: true, rule: "conference:board"},
			{call: toRoom801, reason: "conference 801 has recording off"},
		}},
		{"conference precedence over extension", Rules{Extensions: []Rule{ext("1000", true)}}, []check{
			{call: toBoard, reason: "conference board has recording off (no rule for it; takes precedence over extension 1000)"},
		}},
		{"conference on records an extension that is off", Rules{Extensions: []Rule{ext("1000", false)}, Conferences: []Rule{{Match: "*", Record: true}}}, []check{
			{call: toBoard, record: true, rule: "conference:board"},
		}},
		{"queue: call to the queue and the agent leg", Rules{Queues: []Rule{{Match: "support", Record: true}}}, []check{
			{call: toQueue, record: true, rule: "queue:support"},
			{call: extToQueue, record: true, rule: "queue:support"},
			{call: agentLeg, record: true, rule: "queue:support"},
			{call: salesAgent, reason: "queue sales has recording off (no rule for it)"},
			{call: inboundPhone, reason: "no recording rule covers this call (extension 1000)"},
		}},
		{"queue rule by number", Rules{Queues: []Rule{{Match: "601", Record: true}}}, []check{
			{call: salesAgent, record: true, rule: "queue:sales"},
			{call: CallInfo{Caller: "1000", Callee: "601"}, record: true, rule: "queue:sales"},
		}},
		{"SPEC example: agent 1000 on, queue not on", Rules{Extensions: []Rule{ext("1000", true)}}, []check{
			{call: agentLeg, reason: "queue support has recording off (no rule for it; takes precedence over extension 1000)"},
			{call: inboundPhone, record: true, rule: "extension:1000"},
			{call: internalCall, record: true, rule: "extension:1000"},
		}},
		{"SPEC example with the queue explicitly off", Rules{Extensions: []Rule{ext("1000", true)}, Queues: []Rule{{Match: "support", Record: false}}}, []check{
			{call: agentLeg, reason: "queue support has recording off (takes precedence over extension 1000)"},
			{call: CallInfo{Caller: "1000", Callee: "600"}, reason: "queue support has recording off (takes precedence over extension 1000)"},
		}},
		{"queue precedence over trunk", Rules{Trunks: []Rule{{Match: "carrier-a", Record: true}}}, []check{
			{call: extToQueue, reason: "queue support has recording off (no rule for it; takes precedence over trunk carrier-a)"},
			{call: inboundTrunk, record: true, rule: "trunk:carrier-a"},
		}},
		{"queue on records an agent whose extension is off", Rules{Extensions: []Rule{ext("1000", false)}, Queues: []Rule{{Match: "support", Record: true}}}, []check{
			{call: agentLeg, record: true, rule: "queue:support"},
			{call: inboundPhone, reason: "extension 1000 has recording off"},
		}},
		{"queue star", Rules{Queues: []Rule{{Match: "*", Record: true}, {Match: "sales", Record: false}}}, []check{
			{call: agentLeg, record: true, rule: "queue:support"},
			{call: salesAgent, reason: "queue sales has recording off"},
		}},
		{"default on: uncovered calls and rule-less queues", Rules{Default: on(true), Extensions: []Rule{ext("1001", false)}}, []check{
			{call: CallInfo{Caller: "1000", Callee: "2000"}, record: true, rule: RuleDefault},
			{call: internalCall, reason: "extension 1001 has recording off"},
			{call: CallInfo{Caller: "1000", Callee: "+4930555123", From: pbxAddr, To: elsewhere}, record: true, rule: RuleDefault},
			{call: inboundTrunk, record: true, rule: RuleDefault},
			{call: agentLeg, record: true, rule: RuleDefault},
			{call: otherIntern, reason: "extension 1001 has recording off"},
		}},
		{"default off alone records nothing", Rules{Default: on(false)}, []check{
			{call: internalCall, reason: "no recording rule covers this call"},
			{call: toBoard, reason: "conference board has recording off (no rule for it)"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Validate(p, tt.rules); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			e, err := NewEngine(p, tt.rules)
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range tt.checks {
				cl := Classify(&p, c.call)
				d := Decide(&p, &tt.rules, cl)
				if _, d2 := e.Decide(c.call); d2 != d {
					t.Errorf("check %d: Engine.Decide %+v != Decide %+v", i, d2, d)
				}
				switch {
				case d.Record != c.record:
					t.Errorf("check %d (%+v): Record = %v (%+v), want %v", i, cl, d.Record, d, c.record)
				case c.record && (d.Rule != c.rule || d.Reason != ""):
					t.Errorf("check %d (%+v): %+v, want rule %q", i, cl, d, c.rule)
				case !c.record && (d.Rule != "" || !strings.Contains(d.Reason, c.reason)):
					t.Errorf("check %d (%+v): %+v, want reason containing %q", i, cl, d, c.reason)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	good := testPBX()
	goodRules := Rules{
		Extensions:  []Rule{{Match: "1000-1049", Record: true}, {Match: "2000", Record: true}, {Match: "*", Record: false}},
		Trunks:      []Rule{{Match: "carrier-a", Record: true}},
		Conferences: []Rule{{Match: "board", Record: true}, {Match: "801", Record: true}},
		Queues:      []Rule{{Match: "600", Record: true}},
	}
	if err := Validate(good, goodRules); err != nil {
		t.Fatalf("valid configuration: %v", err)
	}
	if err := Validate(PBX{}, Rules{}); err != nil {
		t.Fatalf("zero configuration: %v", err)
	}
	tests := []struct {
		name  string
		edit  func(p *PBX, r *Rules)
		want  error
		key   string
		value string
	}{
		{"range upside down", func(p *PBX, r *Rules) { p.Extensions = []string{"1099-1000"} }, ErrBadRange, "pbx.extensions[0]", "1099-1000"},
		{"range bounds of different length", func(p *PBX, r *Rules) { p.Extensions = []string{"100-1099"} }, ErrBadRange, "pbx.extensions[0]", "differ in length"},
		{"range with letters", func(p *PBX, r *Rules) { p.Extensions = []string{"1000-10a9"} }, ErrBadRange, "pbx.extensions[0]", "1000-10a9"},
		{"open range", func(p *PBX, r *Rules) { p.Voicemail = []string{"1000-"} }, ErrBadRange, "pbx.voicemail[0]", ""},
		{"empty number", func(p *PBX, r *Rules) { p.Extensions = []string{""} }, ErrBadNumber, "pbx.extensions[0]", ""},
		{"number with a space", func(p *PBX, r *Rules) { p.Paging.Numbers = []string{"70 0"} }, ErrBadNumber, "pbx.paging.numbers[0]", ""},
		{"bad CIDR", func(p *PBX, r *Rules) { p.Trunks[0].Addresses = []string{"10.0.0.0/33"} }, ErrBadAddress, "pbx.trunks[0].addresses[0]", "10.0.0.0/33"},
		{"host name as address", func(p *PBX, r *Rules) { p.Trunks[1].Addresses = []string{"sip.carrier.example"} }, ErrBadAddress, "pbx.trunks[1].addresses[0]", ""},
		{"bad IP", func(p *PBX, r *Rules) { p.Trunks[0].Addresses = []string{"203.0.113.300"} }, ErrBadAddress, "pbx.trunks[0].addresses[0]", ""},
		{"port 0", func(p *PBX, r *Rules) { p.Trunks[0].Addresses = []string{"203.0.113.3:0"} }, ErrBadAddress, "", ""},
		{"bad domain", func(p *PBX, r *Rules) { p.Trunks[0].Domains = []string{"sip carrier"} }, ErrBadDomain, "pbx.trunks[0].domains[0]", ""},
		{"trunk without name", func(p *PBX, r *Rules) { p.Trunks[0].Name = "" }, ErrMissing, "pbx.trunks[0].name", ""},
		{"trunk without peers", func(p *PBX, r *Rules) { p.Trunks[0].Addresses, p.Trunks[0].Domains = nil, nil }, ErrMissing, "pbx.trunks[0]", ""},
		{"duplicate trunk", func(p *PBX, r *Rules) { p.Trunks[1].Name = "Carrier-A" }, ErrDuplicate, "pbx.trunks[1].name", ""},
		{"bad agent regexp", func(p *PBX, r *Rules) { p.Queues[0].AgentPattern = "queue=(" }, ErrBadPattern, "pbx.queues[0].agent_pattern", "queue=("},
		{"agent pattern without header", func(p *PBX, r *Rules) { p.Queues[0].AgentHeader = "" }, ErrMissing, "pbx.queues[0].agent_pattern", ""},
		{"bad agent header", func(p *PBX, r *Rules) { p.Queues[0].AgentHeader = "X Queue:" }, ErrBadHeader, "pbx.queues[0].agent_header", ""},
		{"bad paging regexp", func(p *PBX, r *Rules) { p.Paging.Headers = []HeaderMatch{{Name: "X-P", Pattern: "[a"}} }, ErrBadPattern, "pbx.paging.headers[0].pattern", ""},
		{"queue without number", func(p *PBX, r *Rules) { p.Queues[1].Number = "" }, ErrMissing, "pbx.queues[1].number", ""},
		{"queue number is a range", func(p *PBX, r *Rules) { p.Queues[1].Number = "600-609" }, ErrBadNumber, "pbx.queues[1].number", ""},
		{"queue and room share a number", func(p *PBX, r *Rules) { p.Queues[1].Number = "800" }, ErrDuplicate, "pbx.queues[1].number", "conference board"},
		{"voicemail and paging share a number", func(p *PBX, r *Rules) { p.Voicemail = append(p.Voicemail, "700") }, ErrDuplicate, "pbx.paging.numbers[1]", ""},
		{"queue and room share a name", func(p *PBX, r *Rules) { p.Queues[0].Name = "Board" }, ErrDuplicate, "pbx.queues[0].name", ""},
		{"extension rule outside the extensions", func(p *PBX, r *Rules) { r.Extensions = append(r.Extensions, Rule{Match: "3000"}) }, ErrUnknown, "recording.extensions[3].match", "3000"},
		{"extension rule range outside", func(p *PBX, r *Rules) { r.Extensions = append(r.Extensions, Rule{Match: "1100-1199"}) }, ErrUnknown, "recording.extensions[3].match", ""},
		{"bad extension rule", func(p *PBX, r *Rules) { r.Extensions[0].Match = "2000-1000" }, ErrBadRange, "recording.extensions[0].match", ""},
		{"duplicate extension rule", func(p *PBX, r *Rules) { r.Extensions = append(r.Extensions, Rule{Match: " 2000"}) }, ErrDuplicate, "recording.extensions[3].match", ""},
		{"unknown trunk", func(p *PBX, r *Rules) { r.Trunks[0].Match = "carrier-c" }, ErrUnknown, "recording.trunks[0].match", "carrier-c"},
		{"unknown queue", func(p *PBX, r *Rules) { r.Queues[0].Match = "billing" }, ErrUnknown, "recording.queues[0].match", ""},
		{"unknown conference", func(p *PBX, r *Rules) { r.Conferences[0].Match = "802" }, ErrUnknown, "recording.conferences[0].match", ""},
		{"empty queue rule", func(p *PBX, r *Rules) { r.Queues[0].Match = "" }, ErrMissing, "recording.queues[0].match", ""},
		{"duplicate conference rule", func(p *PBX, r *Rules) { r.Conferences[1].Match = "BOARD" }, ErrDuplicate, "recording.conferences[1].match", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, r := testPBX(), goodRules
			r.Extensions = append([]Rule(nil), goodRules.Extensions...)
			r.Trunks = append([]Rule(nil), goodRules.Trunks...)
			r.Conferences = append([]Rule(nil), goodRules.Conferences...)
			r.Queues = append([]Rule(nil), goodRules.Queues...)
			tt.edit(&p, &r)
			err := Validate(p, r)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Validate = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.key) || !strings.Contains(err.Error(), tt.value) {
				t.Errorf("error %q does not name %q / %q", err, tt.key, tt.value)
			}
			if _, err := NewEngine(p, r); !errors.Is(err, tt.want) {
				t.Errorf("NewEngine = %v", err)
			}
		})
	}
}

func TestValidateReportsAll(t *testing.T) {
	p := PBX{
		Extensions: []string{"1099-1000"},
		Trunks:     []Trunk{{Name: "t", Addresses: []string{"10.0.0.0/40"}}},
		Queues:     []Queue{{Number: "600", AgentHeader: "X-Q", AgentPattern: "("}},
	}
	err := Validate(p, Rules{Trunks: []Rule{{Match: "u", Record: true}}})
	for _, want := range []error{ErrBadRange, ErrBadAddress, ErrBadPattern, ErrUnknown} {
		if !errors.Is(err, want) {
			t.Errorf("%v does not report %v", err, want)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != 4 {
		t.Errorf("%d problems reported, want 4:\n%v", n, err)
	}
}

func TestEngineHotReload(t *testing.T) {
	var e Engine
	if _, d := e.Decide(internalCall); !d.Record || d.Rule != RuleRecordAll {
		t.Fatalf("zero Engine: %+v", d)
	}
	if cl, _ := e.Decide(pageHdr); !cl.Paging {
		t.Error("zero Engine does not know the default paging headers")
	}
	p := testPBX()
	if err := e.Set(p, Rules{Extensions: []Rule{{Match: "1001", Record: true}}}); err != nil {
		t.Fatal(err)
	}
	if _, d := e.Decide(internalCall); !d.Record || d.Rule != "extension:1001" {
		t.Fatalf("after Set: %+v", d)
	}
	if _, d := e.Decide(inboundPhone); d.Record {
		t.Fatalf("after Set, call of 1000: %+v", d)
	}
	// A bad configuration leaves the running one in force.
	if err := e.Set(p, Rules{Trunks: []Rule{{Match: "nope", Record: true}}}); !errors.Is(err, ErrUnknown) {
		t.Fatalf("Set of bad rules = %v", err)
	}
	if _, d := e.Decide(internalCall); d.Rule != "extension:1001" {
		t.Fatalf("bad Set changed the policy: %+v", d)
	}
	// The caller may reuse its slices after Set.
	r := Rules{Extensions: []Rule{{Match: "1000", Record: true}}}
	if err := e.Set(p, r); err != nil {
		t.Fatal(err)
	}
	r.Extensions[0].Record = false
	p.Extensions[0] = "3000-3099"
	if _, d := e.Decide(inboundPhone); !d.Record {
		t.Fatalf("Set kept references to the caller's slices: %+v", d)
	}
}

func TestEngineConcurrent(t *testing.T) {
	e, err := NewEngine(testPBX(), Rules{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				cl, d := e.Decide(agentLeg)
				if cl.Queue != "support" {
					t.Errorf("class %+v", cl)
					return
				}
				// Either configuration, never a mix.
				if d.Record != (d.Rule == RuleRecordAll || d.Rule == "queue:support") {
					t.Errorf("decision %+v", d)
					return
				}
			}
		}()
	}
	for i := 0; i < 200; i++ {
		r := Rules{}
		if i%2 == 0 {
			r.Queues = []Rule{{Match: "support", Record: i%4 == 0}}
		}
		if err := e.Set(testPBX(), r); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
}

func TestYAML(t *testing.T) {
	const doc = `
pbx:
  extensions: ["1000-1099", "2000"]
  trunks:
    - name: carrier-a
      addresses: ["203.0.113.10", "198.51.100.0/24"]
      domains: [sip.carrier-a.example]
  conferences:
    - {number: "800", name: board}
  queues:
    - number: "600"
      name: support
      agent_header: X-Queue
      agent_pattern: queue=support
  voicemail: ["*97"]
  paging:
    numbers: ["*80*"]
    headers:
      - {name: X-Page, pattern: "yes"}
recording:
  extensions:
    - {match: "1000", record: true}
  queues:
    - {match: support, record: false}
  default: false
`
	var cfg struct {
		PBX   PBX   `yaml:"pbx"`
		Rules Rules `yaml:"recording"`
	}
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(cfg.PBX, cfg.Rules)
	if err != nil {
		t.Fatal(err)
	}
	if _, d := e.Decide(agentLeg); d.Record || !strings.Contains(d.Reason, "queue support has recording off (takes precedence over extension 1000)") {
		t.Errorf("agent leg: %+v", d)
	}
	if cl, d := e.Decide(outboundA); !d.Record || d.Rule != "extension:1000" || cl.Trunk != "carrier-a" {
		t.Errorf("outbound: %+v %+v", cl, d)
	}
	if cl, _ := e.Decide(CallInfo{Caller: "1000", Callee: "1001", Header: headers("X-Page", "yes")}); !cl.Paging {
		t.Error("X-Page header from YAML not applied")
	}
}

func BenchmarkEngineDecide(b *testing.B) {
	e, err := NewEngine(testPBX(), Rules{Extensions: []Rule{{Match: "1000", Record: true}}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		e.Decide(agentLeg)
	}
}
