package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigCheckRejectsEachSection: `spanrec config check` hands every
// section to the package that owns it, and each owner's check refuses a
// bad value of its section, naming the key. The board's annotated
// configuration is valid.
func TestConfigCheckRejectsEachSection(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		section, yaml, want string
	}{
		// Both of its problems, not only the first.
		{"offload", "offload: {kind: ftp, window: \"25:99-xx\"}", `offload.kind: unknown kind "ftp"`},
		{"offload.window", "offload: {kind: ftp, window: \"25:99-xx\"}", `offload.window: invalid window: "25:99-xx"`},
		{"capture", "capture: {ring_mb: 0, exclude_hosts: [not-an-ip]}", "capture.ring_mb"},
		{"calls", "calls: {media_timeout: 0s, max_duration: 30s}", "calls.max_duration"},
		{"storage", "storage: {block_kb: 3}", "storage.block_kb"},
		{"hardware", "hardware: {status_led: ../x, button_code: 4096, watchdog: /dev/watchdog, watchdog_timeout: 0s}", "hardware.button_code"},
		{"metrics", "metrics: {listen: \":9273\"}", "metrics.listen"},
		{"log", "log: {format: xml}", "log.format"},
		{"interfaces", "interfaces: [eth1, eth1]", "interfaces[1]"},
		{"log.syslog", "log: {syslog: {address: logs.example, transport: tls}}", "log.syslog.transport"},
		{"limits", "limits: {memory_mb: 1}", "limits.memory_mb"},
		{"nat_aliases", "nat_aliases: [{sdp: 10.0.0.1, seen: nat}]", "nat_aliases[0].seen"},
		{"pbx/recording", "pbx: {trunks: [{name: carrier, addresses: [not-an-address]}]}", "pbx"},
		{"web", "web: {listen: \":443\", cert: only-the-cert.pem}", "web."},
		{"control", "control: {uid_roles: {0: admin}}", "control.uid_roles.0"},
		{"consent", "consent: {inbound: /nonexistent/prompt.wav}", "consent.inbound"},
		{"recording", "recording: {sample_rate: 44100}", "recording.sample_rate"},
	} {
		t.Run(tc.section, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tc.section, "/", "-")+".yaml")
			if err := os.WriteFile(file, []byte("data_dir: "+dir+"\n"+tc.yaml+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := spanrec(t, "config", "check", file)
			if code == 0 || strings.Contains(out, "configuration is valid") {
				t.Fatalf("config check accepted %s (exit %d):\n%s", tc.yaml, code, out)
			}
			if !strings.Contains(errOut, "configuration is not valid") || !strings.Contains(errOut, tc.want) {
				t.Fatalf("config check of %s: exit %d, want %q named:\n%s", tc.yaml, code, tc.want, errOut)
			}
			t.Logf("%s\n%s", tc.yaml, errOut)
		})
	}
	code, out, errOut := spanrec(t, "config", "check", "--data", dir, "../../board/config/spanrec.yaml")
	if code != 0 || !strings.Contains(out, "configuration is valid") {
		t.Fatalf("the board's configuration: exit %d\n%s%s", code, out, errOut)
	}
}
