package engine

import (
	"bufio"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"spanrec/firmware/index"
	"spanrec/firmware/policy"
	"spanrec/firmware/recorder"
)

// The captures of testdata/rules are real sipp calls, one per recording
// type of SPEC §4 (scripts/make-rules-captures.sh); pbx.yaml describes
// their phone system and the recording rules, expect.txt what importing
// each one gives.

// rulesConfig is the part of the daemon's configuration file the policy
// reads.
type rulesConfig struct {
	PBX       policy.PBX   `yaml:"pbx"`
	Recording policy.Rules `yaml:"recording"`
}

// rulesDir is testdata/rules of the repository.
func rulesDir(t testing.TB) string { return filepath.Join(repoRoot(t), "testdata", "rules") }

func loadRulesConfig(t testing.TB) rulesConfig {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(rulesDir(t), "pbx.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg rulesConfig
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("pbx.yaml: %v", err)
	}
	return cfg
}

// rulesExpect is one line of expect.txt: one call of a capture.
type rulesExpect struct {
	pcap, caller, dialed string
	recorded             bool
	direction            string
	// ruleOrReason is the rule when recorded, else a part of the reason.
	ruleOrReason string
}

func loadRulesExpect(t testing.TB) []rulesExpect {
	t.Helper()
	f, err := os.Open(filepath.Join(rulesDir(t), "expect.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []rulesExpect
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		col := strings.Split(line, " | ")
		if len(col) != 6 {
			t.Fatalf("expect.txt:%d: %d columns, want 6", n, len(col))
		}
		for i := range col {
			col[i] = strings.TrimSpace(col[i])
		}
		if col[3] != "yes" && col[3] != "no" {
			t.Fatalf("expect.txt:%d: recorded %q, want yes or no", n, col[3])
		}
		out = append(out, rulesExpect{
			pcap: col[0], caller: col[1], dialed: col[2], recorded: col[3] == "yes",
			direction: col[4], ruleOrReason: col[5],
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("expect.txt: no expectations")
	}
	return out
}

// findCall returns the call of calls from caller that dialed dialed.
func findCall(t testing.TB, calls []*index.Call, caller, dialed string) *index.Call {
	t.Helper()
	var found *index.Call
	for _, c := range calls {
		if c.Caller == caller && c.Dialed == dialed {
			if found != nil {
				t.Fatalf("two calls %s -> %s indexed", caller, dialed)
			}
			found = c
		}
	}
	if found == nil {
		var seen []string
		for _, c := range calls {
			seen = append(seen, c.Caller+"->"+c.Dialed)
		}
		t.Fatalf("no call %s -> %s indexed (have %v)", caller, dialed, seen)
	}
	return found
}

// checkDecision asserts a call's index entry against an expectation.
func checkDecision(t *testing.T, c *index.Call, w rulesExpect) {
	t.Helper()
	name := w.caller + "->" + w.dialed
	t.Logf("%s: recorded=%v rule=%q reason=%q direction=%s trunk=%q queue=%q conference=%q",
		name, c.Recorded, c.Rule, c.Reason, c.Direction, c.Trunk, c.Queue, c.Conference)
	if c.Recorded != w.recorded {
		t.Errorf("%s: recorded %v (rule %q, reason %q), want %v", name, c.Recorded, c.Rule, c.Reason, w.recorded)
	}
	if c.Direction != w.direction {
		t.Errorf("%s: direction %q, want %q", name, c.Direction, w.direction)
	}
	if w.recorded {
		if c.Rule != w.ruleOrReason {
			t.Errorf("%s: rule %q, want %q", name, c.Rule, w.ruleOrReason)
		}
		if c.Reason != "" {
			t.Errorf("%s: recorded with reason %q", name, c.Reason)
		}
		if c.File == "" || c.Size == 0 || c.SHA256 == "" {
			t.Errorf("%s: recorded without a file (file %q, size %d)", name, c.File, c.Size)
		}
		return
	}
	if !strings.Contains(c.Reason, w.ruleOrReason) {
		t.Errorf("%s: reason %q, want it to contain %q", name, c.Reason, w.ruleOrReason)
	}
	if c.Rule != "" {
		t.Errorf("%s: not recorded but rule %q", name, c.Rule)
	}
	if c.File != "" {
		t.Errorf("%s: not recorded but file %q", name, c.File)
	}
}

// checkRulesAudio asserts a recording of one of the rules captures holds
// the caller's sample (the sipp UAC streams testdata/sample_caller.ulaw) on
// the left and the callee's (sample_callee.ulaw) on the right.
func checkRulesAudio(t *testing.T, dataDir string, c *index.Call) {
	t.Helper()
	p := readRecording(t, dataDir, c)
	if secs := float64(p.Frames()) / 8000; secs < 1.5 || secs > 3.5 {
		t.Errorf("%s: %.2f s of audio, want about 2 s", c.Dialed, secs)
	}
	root := repoRoot(t)
	for ch, file := range []string{"sample_caller.ulaw", "sample_callee.ulaw"} {
		x := channel(p, ch)
		var energy float64
		for _, v := range x {
			energy += v * v
		}
		rms := math.Sqrt(energy / float64(max(len(x), 1)))
		ref := decodeG711(t, filepath.Join(root, "testdata", file), false)
		ref = ref[:min(len(ref), 9600)] // the first 1.2 s of what sipp streamed
		lag, corr := bestLag(x, ref, 4000)
		t.Logf("%s channel %d: rms %.0f, %s at %.3f s, correlation %.3f", c.Dialed, ch, rms, file, float64(lag)/8000, corr)
		if rms < 100 {
			t.Errorf("%s channel %d is silent (rms %.1f)", c.Dialed, ch, rms)
		}
		if corr < 0.9 {
			t.Errorf("%s channel %d: correlation with %s %.3f, want >= 0.9", c.Dialed, ch, file, corr)
		}
	}
}

// TestRulesCaptures imports each capture of testdata/rules with the policy
// of pbx.yaml and checks every call's decision, rule or reason, direction
// and, for the recorded ones, their audio.
func TestRulesCaptures(t *testing.T) {
	cfg := loadRulesConfig(t)
	pol, err := policy.NewEngine(cfg.PBX, cfg.Recording)
	if err != nil {
		t.Fatalf("pbx.yaml: %v", err)
	}
	exps := loadRulesExpect(t)
	var order []string
	byPcap := map[string][]rulesExpect{}
	for _, w := range exps {
		if byPcap[w.pcap] == nil {
			order = append(order, w.pcap)
		}
		byPcap[w.pcap] = append(byPcap[w.pcap], w)
	}
	// Every capture of the folder has expectations.
	pcaps, err := filepath.Glob(filepath.Join(rulesDir(t), "*.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pcaps {
		if byPcap[filepath.Base(p)] == nil {
			t.Errorf("%s has no line in expect.txt", filepath.Base(p))
		}
	}

	for _, name := range order {
		t.Run(strings.TrimSuffix(name, ".pcap"), func(t *testing.T) {
			data := t.TempDir()
			got := importFiles(t, data, Options{Recorder: recorder.Config{Policy: pol}}, filepath.Join(rulesDir(t), name))
			want := byPcap[name]
			if len(got) != len(want) {
				t.Errorf("%d calls indexed, want %d", len(got), len(want))
			}
			for _, w := range want {
				c := findCall(t, got, w.caller, w.dialed)
				checkDecision(t, c, w)
				if c.Recorded {
					checkRulesAudio(t, data, c)
				}
			}
		})
	}
}

// TestRulesClassification checks what the index says the calls went
// through (trunk, queue, conference) besides the decision.
func TestRulesClassification(t *testing.T) {
	cfg := loadRulesConfig(t)
	pol, err := policy.NewEngine(cfg.PBX, cfg.Recording)
	if err != nil {
		t.Fatal(err)
	}
	dir := rulesDir(t)
	for _, tc := range []struct {
		pcap, caller, dialed     string
		trunk, queue, conference string
	}{
		{"queue.pcap", "2001", "600", "", "support", ""},
		{"queue.pcap", "2001", "1000", "", "support", ""},
		{"conference.pcap", "1001", "800", "", "", "board"},
		{"trunk_in.pcap", "0301234567", "1002", "carrier-a", "", ""},
		{"trunk_out.pcap", "1003", "0049301234567", "carrier-a", "", ""},
		{"internal.pcap", "1000", "1005", "", "", ""},
	} {
		got := importFiles(t, t.TempDir(), Options{Recorder: recorder.Config{Policy: pol}}, filepath.Join(dir, tc.pcap))
		c := findCall(t, got, tc.caller, tc.dialed)
		if c.Trunk != tc.trunk || c.Queue != tc.queue || c.Conference != tc.conference {
			t.Errorf("%s %s->%s: trunk %q queue %q conference %q, want %q %q %q", tc.pcap, tc.caller, tc.dialed,
				c.Trunk, c.Queue, c.Conference, tc.trunk, tc.queue, tc.conference)
		}
	}
}

// TestRulesSetTakesEffect changes the rules of one policy.Engine between
// the imports of one running Engine: each capture is decided by the rules
// in force when it was imported, without re-creating anything.
func TestRulesSetTakesEffect(t *testing.T) {
	cfg := loadRulesConfig(t)
	pol, err := policy.NewEngine(cfg.PBX, cfg.Recording)
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	var (
		mu  sync.Mutex
		got []*index.Call
	)
	e, err := Open(Options{
		DataDir: data,
		Recorder: recorder.Config{Policy: pol, OnIndexed: func(c *index.Call) {
			mu.Lock()
			got = append(got, c)
			mu.Unlock()
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	imp := func(name string) {
		t.Helper()
		if err := e.ImportFile(t.Context(), filepath.Join(rulesDir(t), name)); err != nil {
			t.Fatalf("import %s: %v", name, err)
		}
	}
	set := func(p policy.PBX, r policy.Rules) {
		t.Helper()
		if err := pol.Set(p, r); err != nil {
			t.Fatal(err)
		}
	}

	// The captures in the order they were made. 1: pbx.yaml's rules.
	imp("queue.pcap")

	// 2: the board room's recording turned off (pbx.yaml records it).
	noBoard := cfg.Recording
	noBoard.Conferences = []policy.Rule{{Match: "board", Record: false}}
	set(cfg.PBX, noBoard)
	imp("conference.pcap")

	// 3: no rules at all: every call is recorded, paging too (pbx.yaml's
	// rules do not record this paging call of extension 1000).
	set(cfg.PBX, policy.Rules{})
	imp("paging.pcap")

	// 4: back to pbx.yaml; a configuration that does not compile is
	// refused and leaves it in force.
	set(cfg.PBX, cfg.Recording)
	bad := cfg.PBX
	bad.Queues = append([]policy.Queue(nil), bad.Queues...)
	bad.Queues[0].AgentPattern = "(support"
	if err := pol.Set(bad, policy.Rules{}); !errors.Is(err, policy.ErrBadPattern) {
		t.Fatalf("Set with a bad agent pattern: %v, want ErrBadPattern", err)
	}
	imp("internal_norule.pcap")

	if err := e.Close("capture-ended"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, w := range []rulesExpect{
		{caller: "2001", dialed: "600", direction: policy.Internal, ruleOrReason: "queue support has recording off"},
		{caller: "2001", dialed: "1000", direction: policy.Internal, ruleOrReason: "queue support has recording off"},
		{caller: "1001", dialed: "800", direction: policy.Internal, ruleOrReason: "conference board has recording off"},
		{caller: "1000", dialed: "1004", recorded: true, direction: policy.Internal, ruleOrReason: policy.RuleRecordAll},
		{caller: "1001", dialed: "1005", direction: policy.Internal, ruleOrReason: "no recording rule covers this call"},
	} {
		c := findCall(t, got, w.caller, w.dialed)
		checkDecision(t, c, w)
		if c.Recorded {
			checkRulesAudio(t, data, c)
		}
	}
	if len(got) != 5 {
		t.Errorf("%d calls indexed, want 5", len(got))
	}
}
