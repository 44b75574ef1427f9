package daemon

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/clock"
	"spanrec/firmware/clock/clocktest"
	"spanrec/firmware/engine"
	"spanrec/firmware/metrics"
)

// TestMetricsOfALiveCall runs the daemon on a live interface with the
// metrics listener on loopback, replays a call and scrapes until the
// call's SIP and recording show; the real output passes promtool.
func TestMetricsOfALiveCall(t *testing.T) {
	send, capIf := veth(t)
	data := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() {
		done <- Run(runCtx, Options{
			Engine:     engine.Options{DataDir: data},
			Live:       capture.LiveConfig{Interfaces: []string{capIf}},
			SocketPath: filepath.Join(data, "spanrec.sock"),
			Metrics:    metrics.Config{Listen: addr},
			Clock:      clocktest.New(clock.State{Synced: true, EstError: 2 * time.Millisecond}),
		}, nil)
	}()
	scrape := func() string {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/metrics", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	waitMetric := func(want ...string) string {
		t.Helper()
		for {
			out := scrape()
			ok := out != ""
			for _, w := range want {
				ok = ok && strings.Contains(out, w)
			}
			if ok {
				return out
			}
			select {
			case <-ctx.Done():
				t.Fatalf("metrics never showed %q; last scrape:\n%s", want, out)
			case err := <-done:
				t.Fatalf("daemon stopped: %v", err)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	waitMetric(`spanrec_capture_link_up{interface="`+capIf+`"} 1`, `spanrec_clock_synced 1`)

	audio, err := os.ReadFile(filepath.Join(repoRoot(), "testdata", "sample_caller.ulaw"))
	if err != nil {
		t.Fatal(err)
	}
	call := simcall.Generate(simcall.Call{CallerAudio: audio, CalleeAudio: audio, Talk: 2 * time.Second,
		Start: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}, simcall.Options{})
	if err := replay(ctx, send, call); err != nil {
		t.Fatal(err)
	}
	out := waitMetric("spanrec_recordings_total 1\n", "spanrec_calls_total 1\n", `spanrec_fault{fault="clock_not_synchronised"} 0`)
	if strings.Contains(out, "spanrec_sip_messages_total 0\n") {
		t.Errorf("no SIP counted:\n%s", out)
	}
	// Both directions of the recording were scored; nobody paused.
	for _, want := range []string{"spanrec_call_quality_mos_count 2\n", "spanrec_call_quality_jitter_max_seconds_count 2\n",
		"spanrec_call_quality_loss_ratio_count 2\n", "spanrec_pauses_total 0\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.CommandContext(ctx, promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(out)
		if res, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, res)
		}
	} else {
		t.Log("promtool not installed (Debian package prometheus): output not linted")
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
