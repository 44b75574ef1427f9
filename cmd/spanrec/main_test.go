package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func spanrec(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

const sample = "../../testdata/sample_call.pcap"

func TestImportListVerify(t *testing.T) {
	data := t.TempDir()
	code, out, errOut := spanrec(t, "import", "--data", data, sample)
	if code != 0 {
		t.Fatalf("import exit %d: %s %s", code, out, errOut)
	}
	if !strings.Contains(out, "1 recorded") {
		t.Errorf("import output does not report the recording:\n%s", out)
	}

	code, out, _ = spanrec(t, "list", "--data", data, "--json")
	if code != 0 {
		t.Fatalf("list exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 {
		t.Fatalf("list --json: %d lines:\n%s", len(lines), out)
	}
	var entry map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &entry); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "call_id", "caller", "callee", "start", "answer", "end", "duration_s", "codec", "recorded", "reason", "file", "sha256", "pauses"} {
		if _, ok := entry[k]; !ok {
			t.Errorf("list --json lacks %q", k)
		}
	}
	for _, k := range []string{"start", "answer", "end"} {
		if _, err := time.Parse(time.RFC3339, entry[k].(string)); err != nil {
			t.Errorf("%s is not RFC 3339: %v", k, err)
		}
	}
	if entry["recorded"] != true || entry["codec"] != "PCMU" || entry["caller"] != "1001" || entry["callee"] != "2001" {
		t.Errorf("entry: %v", entry)
	}
	if _, ok := entry["duration_s"].(float64); !ok {
		t.Errorf("duration_s is not a number: %v", entry["duration_s"])
	}
	if _, ok := entry["pauses"].([]any); !ok {
		t.Errorf("pauses is not a list: %v", entry["pauses"])
	}
	// Call quality: the worse direction's MOS, each direction's figures.
	if entry["mos"] != 4.41 {
		t.Errorf("mos %v, want 4.41 (a clean G.711 call)", entry["mos"])
	}
	for _, s := range entry["streams"].([]any) {
		q, _ := s.(map[string]any)["quality"].(map[string]any)
		if q == nil || q["codec"] != "PCMU" || q["jitter_max_ms"] == nil || q["loss_percent"] != 0.0 {
			t.Errorf("stream without its quality: %v", s)
		}
	}
	code, out, _ = spanrec(t, "list", "--data", data)
	if code != 0 || !strings.Contains(out, "MOS") || !strings.Contains(out, " 4.41 ") || strings.Contains(out, "poor") {
		t.Errorf("list: exit %d:\n%s", code, out)
	}
	// A threshold above it flags the call poor-quality.
	strict := t.TempDir()
	cfg := filepath.Join(strict, "spanrec.yaml")
	if err := os.WriteFile(cfg, []byte("quality:\n  poor_mos: 4.45\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := spanrec(t, "import", "--data", strict, "--config", cfg, sample); code != 0 {
		t.Fatalf("import with poor_mos 4.45: exit %d: %s %s", code, out, errOut)
	}
	if code, out, _ = spanrec(t, "list", "--data", strict); code != 0 || !strings.Contains(out, "4.41 poor") {
		t.Errorf("list with poor_mos 4.45: exit %d:\n%s", code, out)
	}
	if code, out, _ = spanrec(t, "list", "--data", strict, "--json"); code != 0 || !strings.Contains(out, `"poor-quality"`) {
		t.Errorf("list --json with poor_mos 4.45: exit %d:\n%s", code, out)
	}

	wavPath := filepath.Join(data, filepath.FromSlash(entry["file"].(string)))
	code, out, _ = spanrec(t, "verify", "--data", data, wavPath)
	if code != 0 || !strings.Contains(out, "valid") {
		t.Fatalf("verify of an intact file: exit %d: %s", code, out)
	}
	code, out, _ = spanrec(t, "verify", "--data", data, "--all")
	if code != 0 || !strings.Contains(out, "hash chain intact") {
		t.Fatalf("verify --all: exit %d: %s", code, out)
	}

	// Importing the same capture again records nothing twice.
	code, out, _ = spanrec(t, "import", "--data", data, sample)
	if code != 0 || !strings.Contains(out, "1 already indexed") {
		t.Fatalf("re-import: exit %d:\n%s", code, out)
	}

	// One flipped byte: invalid, exit 1, with a reason.
	orig, err := os.ReadFile(wavPath)
	if err != nil {
		t.Fatal(err)
	}
	mod := append([]byte(nil), orig...)
	mod[len(mod)/2] ^= 0x40
	if err := os.WriteFile(wavPath, mod, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = spanrec(t, "verify", "--data", data, wavPath)
	if code != 1 || !strings.Contains(out, "INVALID") {
		t.Fatalf("verify of a modified file: exit %d: %s", code, out)
	}
	t.Logf("modified file: %s", strings.TrimSpace(out))

	// A deleted recording is found by the index's hash chain.
	if err := os.Remove(wavPath); err != nil {
		t.Fatal(err)
	}
	code, out, _ = spanrec(t, "verify", "--data", data, "--all")
	if code != 1 || !strings.Contains(out, "missing") {
		t.Fatalf("verify --all after deleting the recording: exit %d: %s", code, out)
	}
	// A replaced recording (validly signed by another key) is found too.
	if err := os.WriteFile(wavPath, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := spanrec(t, "verify", "--data", data, "--all"); code != 0 {
		t.Fatalf("restored file: exit %d: %s", code, out)
	}
}

func TestVerifyWithPublicKeyFile(t *testing.T) {
	data := t.TempDir()
	if code, _, e := spanrec(t, "import", "--data", data, sample); code != 0 {
		t.Fatal(e)
	}
	other := t.TempDir()
	if code, _, e := spanrec(t, "keygen", "--data", other); code != 0 {
		t.Fatal(e)
	}
	files, _ := filepath.Glob(filepath.Join(data, "recordings", "*", "*", "*", "*.wav"))
	if len(files) != 1 {
		t.Fatalf("recordings: %v", files)
	}
	if code, out, _ := spanrec(t, "verify", "--pubkey", filepath.Join(data, "keys", "spanrec.pub"), files[0]); code != 0 {
		t.Fatalf("own key: exit %d %s", code, out)
	}
	code, out, _ := spanrec(t, "verify", "--pubkey", filepath.Join(other, "keys", "spanrec.pub"), files[0])
	if code != 1 || !strings.Contains(out, "INVALID") {
		t.Fatalf("another appliance's key: exit %d %s", code, out)
	}
}

func TestUsageErrors(t *testing.T) {
	if code, _, _ := spanrec(t); code != 2 {
		t.Errorf("no command: exit %d", code)
	}
	if code, _, _ := spanrec(t, "frobnicate"); code != 2 {
		t.Errorf("unknown command: exit %d", code)
	}
	if code, _, _ := spanrec(t, "import", "--data", t.TempDir()); code != 2 {
		t.Errorf("import without files: exit %d", code)
	}
	code, _, errOut := spanrec(t, "import", "--data", t.TempDir(), "/nonexistent.pcap")
	if code != 1 || !strings.Contains(errOut, "nonexistent") {
		t.Errorf("missing file: exit %d: %s", code, errOut)
	}
}
