package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"spanrec/media/quality"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeSource is a Snapshot with a SIP counter the test moves.
type fakeSource struct{ sip atomic.Uint64 }

func (f *fakeSource) Snapshot() Snapshot {
	var q quality.Tally
	q.Add(quality.Stats{Expected: 100, JitterMaxMS: 0.5}, quality.Score{MOS: 4.41})
	q.Add(quality.Stats{Expected: 100, Lost: 5, JitterMaxMS: 25}, quality.Score{MOS: 3.0})
	return Snapshot{
		Pauses: 4, PoorQuality: 1, Quality: q,
		Interfaces:  []Interface{{Name: "eth1", LinkUp: true, Packets: 1000, Bytes: 123456, KernelDrops: 3}, {Name: "eth2", Packets: 7}},
		SIPMessages: f.sip.Load(), Frames: 1007,
		ActiveCalls: 3, RecordingCalls: 2, PausedCalls: 1,
		CallsSeen: 10, Recorded: 6, RawMedia: 1, Failed: 1, NotRecorded: 2,
		Refused:          map[string]uint64{"foreign media source": 4, "tags of no dialog": 2},
		StorageUsedBytes: 1 << 20, StorageFreeBytes: 5 << 30, StorageTotalBytes: 8 << 30, StorageRecordings: 6,
		Offload:    &Offload{Pending: 2, LastSuccess: time.Unix(1700000000, 0), ConsecutiveFailures: 0},
		AnchorTime: time.Unix(1700000100, 0),
		Faults:     map[string]bool{"capture link down": false, "clock not synchronised": true},
		ClockKnown: true, ClockSynced: false, ClockEstErrorSeconds: 0.5, ClockMaxErrorSeconds: 16,
		StartTime: time.Unix(1699999000, 0),
	}
}

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func TestExposition(t *testing.T) {
	src := &fakeSource{}
	src.sip.Store(42)
	out := scrape(t, Handler(NewRegistry(src)))
	for _, want := range []string{
		`spanrec_capture_frames_total{interface="eth1"} 1000`,
		`spanrec_capture_kernel_drops_total{interface="eth1"} 3`,
		`spanrec_capture_link_up{interface="eth2"} 0`,
		`spanrec_sip_messages_total 42`,
		`spanrec_calls_active 3`,
		`spanrec_calls_paused 1`,
		`spanrec_recordings_failed_total 1`,
		`spanrec_refused_total{reason="foreign media source"} 4`,
		`spanrec_storage_free_bytes 5.36870912e+09`,
		`spanrec_offload_backlog_recordings 2`,
		`spanrec_offload_last_success_timestamp_seconds 1.7e+09`,
		`spanrec_anchor_last_timestamp_seconds 1.7000001e+09`,
		`spanrec_fault{fault="clock_not_synchronised"} 1`,
		`spanrec_fault{fault="capture_link_down"} 0`,
		`spanrec_clock_synced 0`,
		`spanrec_clock_estimated_error_seconds 0.5`,
		`spanrec_pauses_total 4`,
		`spanrec_recordings_poor_quality_total 1`,
		`spanrec_call_quality_mos_bucket{le="3"} 1`,
		`spanrec_call_quality_mos_bucket{le="4.4"} 1`,
		`spanrec_call_quality_mos_bucket{le="+Inf"} 2`,
		`spanrec_call_quality_mos_sum 7.41`,
		`spanrec_call_quality_mos_count 2`,
		`spanrec_call_quality_jitter_max_seconds_bucket{le="0.001"} 1`,
		`spanrec_call_quality_jitter_max_seconds_bucket{le="0.02"} 1`,
		`spanrec_call_quality_jitter_max_seconds_bucket{le="0.03"} 2`,
		`spanrec_call_quality_jitter_max_seconds_sum 0.0255`,
		`spanrec_call_quality_loss_ratio_bucket{le="0.001"} 1`,
		`spanrec_call_quality_loss_ratio_bucket{le="0.05"} 2`,
		`spanrec_call_quality_loss_ratio_count 2`,
		"go_goroutines ",
		"process_start_time_seconds ",
	} {
		if !strings.Contains(out, want+"\n") && !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}

func TestNoOffloadNoClock(t *testing.T) {
	out := scrape(t, Handler(NewRegistry(SourceFunc(func() Snapshot { return Snapshot{} }))))
	if !strings.Contains(out, "spanrec_offload_enabled 0") {
		t.Errorf("offload_enabled 0 missing:\n%s", out)
	}
	for _, absent := range []string{"spanrec_offload_backlog_recordings", "spanrec_clock_synced"} {
		if strings.Contains(out, absent) {
			t.Errorf("%s present without its data", absent)
		}
	}
}

func TestPromtoolCheckMetrics(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian package prometheus)")
	}
	src := &fakeSource{}
	out := scrape(t, Handler(NewRegistry(src)))
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(out)
	res, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check metrics: %v\n%s\n--- input:\n%s", err, res, out)
	}
}

func TestHandlerOnlyMetrics(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler(NewRegistry(&fakeSource{})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("GET /: %d, want 404", rec.Code)
	}
}

// freePort returns a port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestPrometheusScrapes starts a real Prometheus server scraping Serve's
// listener and waits (bounded by a deadline, never timed) until a query
// answers the value the source last gave.
func TestPrometheusScrapes(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus not installed (Debian package prometheus)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{}
	src.sip.Store(4242)
	srvCtx, stopSrv := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- Serve(srvCtx, ln, Handler(NewRegistry(src)), nil) }()
	defer func() {
		stopSrv()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()

	dir := t.TempDir()
	conf := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(conf, fmt.Appendf(nil, `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: spanrec
    static_configs:
      - targets: [%q]
`, ln.Addr().String()), 0o644); err != nil {
		t.Fatal(err)
	}
	web := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	var logs bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "--config.file="+conf, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+web)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var exitErr error
	go func() { exitErr = cmd.Wait(); close(exited) }()
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		<-exited
		if t.Failed() {
			t.Logf("prometheus log:\n%s", logs.String())
		}
	}()

	query := func(q string) (string, error) {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+web+"/api/v1/query?query="+url.QueryEscape(q), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var r struct {
			Status string
			Data   struct {
				Result []struct {
					Value [2]any
				}
			}
		}
		if err := json.Unmarshal(body, &r); err != nil {
			return "", fmt.Errorf("%v: %s", err, body)
		}
		if r.Status != "success" || len(r.Data.Result) == 0 {
			return "", fmt.Errorf("no result yet: %s", body)
		}
		s, _ := r.Data.Result[0].Value[1].(string)
		return s, nil
	}
	for _, want := range []struct{ q, v string }{
		{`spanrec_sip_messages_total{job="spanrec"}`, "4242"},
		{`spanrec_fault{fault="clock_not_synchronised"}`, "1"},
		{`spanrec_capture_kernel_drops_total{interface="eth1"}`, "3"},
		{`up{job="spanrec"}`, "1"},
	} {
		var last error
		for {
			v, err := query(want.q)
			if err == nil && v == want.v {
				break
			}
			if err == nil {
				err = fmt.Errorf("value %s", v)
			}
			last = err
			select {
			case <-ctx.Done():
				t.Fatalf("%s never answered %s: last %v", want.q, want.v, last)
			case <-exited:
				t.Fatalf("prometheus exited: %v", exitErr)
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}
