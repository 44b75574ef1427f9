package policy

import "strings"

// Rule labels of a Decision recorded by a default rather than by a rule.
const (
	// RuleRecordAll: nothing is configured, every call is recorded.
	RuleRecordAll = "default:record-all"
	// RuleDefault: no rule covers the call and Rules.Default is true.
	RuleDefault = "default:record"
)

// Decision says whether to record a call.
type Decision struct {
	// Record is true when the call is to be recorded.
	Record bool
	// Rule is the rule that caused the recording, as "kind:what":
	// "extension:1000", "trunk:carrier-a", "queue:support",
	// "conference:board", RuleRecordAll or RuleDefault. Empty when not
	// recorded.
	Rule string
	// Reason says why the call is not recorded, e.g. "queue support has
	// recording off (takes precedence over extension 1000)", "paging call
	// of extension 1000". Empty when recorded.
	Reason string
}

// Decide decides whether to record a call of class cl under p and r (which
// should be valid, see Validate; invalid entries are ignored). The rules are
// in the package documentation. A daemon deciding on every call should
// Compile once, or use an Engine.
func Decide(p *PBX, r *Rules, cl Class) Decision {
	return compileLenient(p, r).Decide(cl)
}

// Decide decides whether to record a call of class cl.
func (pol *Policy) Decide(cl Class) Decision {
	if pol.empty {
		return Decision{Record: true, Rule: RuleRecordAll}
	}
	on, off, excluded := pol.others(cl)

	// Precedence: queue and conference calls follow the queue's or the
	// room's own setting only.
	if cl.Queue != "" || cl.Conference != "" {
		rule := ""
		for _, g := range [2]struct{ kind, label string }{{"queue", cl.Queue}, {"conference", cl.Conference}} {
			if g.label == "" {
				continue
			}
			rules, list := pol.queueRules, queuesOf(pol.queues)
			if g.kind == "conference" {
				rules, list = pol.roomRules, pol.rooms
			}
			rec, explicit := pol.lookup(rules, list, g.label)
			if !rec {
				var notes []string
				if !explicit {
					notes = append(notes, "no rule for it")
				}
				if len(on) > 0 {
					notes = append(notes, "takes precedence over "+strings.Join(spaced(on), ", "))
				}
				reason := g.kind + " " + g.label + " has recording off"
				if len(notes) > 0 {
					reason += " (" + strings.Join(notes, "; ") + ")"
				}
				return Decision{Reason: reason}
			}
			if rule == "" {
				rule = g.kind + ":" + g.label
				if !explicit {
					rule = RuleDefault
				}
			}
		}
		return Decision{Record: true, Rule: rule}
	}

	switch {
	case len(on) > 0:
		return Decision{Record: true, Rule: on[0]}
	case len(excluded) > 0:
		return Decision{Reason: excluded[0]}
	case len(off) > 0:
		return Decision{Reason: off[0]}
	case pol.deflt:
		return Decision{Record: true, Rule: RuleDefault}
	}
	reason := "no recording rule covers this call"
	var what []string
	for _, e := range cl.Extensions {
		what = append(what, "extension "+e)
	}
	if cl.Trunk != "" {
		what = append(what, "trunk "+cl.Trunk)
	}
	if len(what) > 0 {
		reason += " (" + strings.Join(what, ", ") + ")"
	}
	return Decision{Reason: reason}
}

// others evaluates the extension and trunk rules that apply to cl: the
// labels of those that record ("extension:1000"), the reasons of those that
// are off, and the reasons of "on" extension rules that do not cover this
// paging or voicemail call.
func (pol *Policy) others(cl Class) (on, off, excluded []string) {
	for _, e := range cl.Extensions {
		r, ok := pol.extensionRule(e)
		switch {
		case !ok:
		case !r.record:
			off = append(off, "extension "+e+" has recording off")
		case cl.Paging:
			excluded = append(excluded, "paging call of extension "+e)
		case cl.Voicemail:
			excluded = append(excluded, "voicemail call of extension "+e)
		default:
			on = append(on, "extension:"+e)
		}
	}
	if cl.Trunk != "" {
		if rec, explicit := pol.lookup(pol.trunkRules, nil, cl.Trunk); explicit {
			if rec {
				on = append(on, "trunk:"+cl.Trunk)
			} else {
				off = append(off, "trunk "+cl.Trunk+" has recording off")
			}
		}
	}
	return on, off, excluded
}

// extensionRule returns the most specific extension rule matching e.
func (pol *Policy) extensionRule(e string) (extRule, bool) {
	best, found := extRule{}, false
	for _, r := range pol.extRules {
		if r.pat.match(e) && (!found || r.pat.span < best.pat.span) {
			best, found = r, true
		}
	}
	return best, found
}

// lookup finds the rule for the trunk, queue or room labelled label (list
// resolves a label to its number and name): its setting and whether a rule
// (specific or "*") exists; without one the default applies.
func (pol *Policy) lookup(rules []nameRule, list []named, label string) (record, explicit bool) {
	names := []string{label}
	if n := findNamed(list, label); n != nil {
		names = []string{n.number, n.name}
	}
	star := -1
	for i, r := range rules {
		if r.match == "*" {
			star = i
			continue
		}
		for _, n := range names {
			if n != "" && (r.match == n || strings.EqualFold(r.match, n)) {
				return r.record, true
			}
		}
	}
	if star >= 0 {
		return rules[star].record, true
	}
	return pol.deflt, false
}

// spaced turns rule labels "kind:what" into "kind what".
func spaced(labels []string) []string {
	out := make([]string, len(labels))
	for i, l := range labels {
		out[i] = strings.Replace(l, ":", " ", 1)
	}
	return out
}
