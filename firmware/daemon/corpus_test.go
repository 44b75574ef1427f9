package daemon

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"spanrec/firmware/control"
	"spanrec/firmware/index"
	"spanrec/firmware/simcall/corpus"
)

// TestCorpusLive replays the real-world and hostile traffic corpus in real
// time onto the SPAN lab's mirror port and holds what the running daemon
// recorded to the same checks as the import of the same capture
// (firmware/engine's TestCorpusImport): the encapsulations pass the kernel
// filter, the hostile traffic is refused and counted in `spanrec status`,
// every recording verifies.
func TestCorpusLive(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end lab test")
	}
	l := newLab(t)
	if _, err := exec.LookPath("tcpreplay"); err != nil {
		t.Skipf("the live corpus needs tcpreplay (Debian: tcpreplay): %v", err)
	}
	bin := buildSpanrec(t)
	work := t.TempDir()
	cases := corpus.Cases(t)
	pcap := filepath.Join(work, "corpus.pcap")
	corpus.Write(t, pcap, cases)
	data := t.TempDir()
	d := startDaemon(t, l, bin, data, filepath.Join(work, "daemon.log"))

	replay := l.cmd("a", "tcpreplay", "-q", "-i", l.prefix+"-va", pcap)
	if out, err := replay.CombinedOutput(); err != nil {
		t.Fatalf("tcpreplay: %v\n%s", err, out)
	}
	// The calls that end by BYE are done once the replay is; give the
	// daemon a moment to index them, then read its counters.
	var st control.Status
	waitFor(15*time.Second, func() bool {
		out, err := exec.Command(bin, "status", "--data", data, "--json").Output()
		if err != nil || json.Unmarshal(out, &st) != nil {
			return false
		}
		return st.RecordingsWritten >= 80
	})
	refused := map[string]uint64{}
	for _, c := range st.Refused {
		refused[c.Reason] = c.N
	}
	t.Logf("status: %d frames, %d SIP, %d RTP, %d calls seen, %d recordings; skipped %v; refused %v; faults %v",
		st.Frames, st.SIPMessages, st.RTPPackets, st.CallsSeen, st.RecordingsWritten, st.Skipped, refused, st.Faults)
	if !slices.Contains(st.Faults, "hostile traffic refused") {
		t.Errorf("faults %v: the refused hostile traffic raised no fault", st.Faults)
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	d.cmd.Wait()
	entries := listIndex(t, bin, data)
	calls := make([]*index.Call, len(entries))
	for i := range entries {
		calls[i] = &entries[i]
	}
	corpus.Run(t, cases, data, calls, refused, true)
	if out, err := exec.Command(bin, "verify", "--data", data, "--all").CombinedOutput(); err != nil {
		t.Errorf("verify --all: %v\n%s", err, out)
	}
	if t.Failed() {
		lines := strings.Split(d.logText(), "\n")
		t.Logf("daemon log (last lines):\n%s", strings.Join(lines[max(0, len(lines)-60):], "\n"))
	}
}
