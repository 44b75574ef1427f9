package daemon

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest"
	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/control"
	"spanrec/firmware/datadir"
	"spanrec/firmware/engine"
	"spanrec/firmware/index"
	"spanrec/hal/button"
	"spanrec/hal/button/buttontest"
	"spanrec/hal/led"
	"spanrec/hal/led/ledtest"
	"spanrec/hal/ledstate"
	"spanrec/media/wav"
)

// veth makes a veth pair in this network namespace; frames sent on the
// first end arrive on the second. It skips the test without root or live
// capture.
func veth(t *testing.T) (send, capIf string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for a veth pair and AF_PACKET")
	}
	if err := capture.LiveSupported(); err != nil {
		t.Skipf("live capture not available here: %v", err)
	}
	send, capIf = fmt.Sprintf("sra%d", os.Getpid()%10000), fmt.Sprintf("srb%d", os.Getpid()%10000)
	exec.Command("ip", "link", "del", send).Run()
	for _, args := range [][]string{
		{"link", "add", send, "type", "veth", "peer", "name", capIf},
		{"link", "set", send, "up"}, {"link", "set", capIf, "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v %s", args, err, out)
		}
	}
	t.Cleanup(func() { exec.Command("ip", "link", "del", send).Run() })
	return send, capIf
}

// replay sends a generated call's frames on ifname in real time.
func replay(ctx context.Context, ifname string, r *simcall.Result) error {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return err
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	addr := &unix.SockaddrLinklayer{Ifindex: ifi.Index}
	start, first := time.Now(), r.Packets[0].Time
	for _, p := range r.Packets {
		if d := time.Until(start.Add(p.Time.Sub(first))); d > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(d):
			}
		}
		if err := unix.Sendto(fd, capturetest.UDP(capturetest.FrameOptions{}, p.Src, p.Dst, p.Payload), 0, addr); err != nil {
			return err
		}
	}
	return nil
}

// TestButtonPausesAllCalls runs the daemon on a live interface with a fake
// button and fake LEDs: pressed mid-call it pauses the recording (status
// LED blinks fast), pressed again it resumes; the paused span is silent
// and indexed with source "button".
func TestButtonPausesAllCalls(t *testing.T) {
	send, capIf := veth(t)
	data := t.TempDir()
	status, fault := ledtest.New("status"), ledtest.New("fault")
	btn := buttontest.New()
	sock := filepath.Join(data, "spanrec.sock")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{
			Engine:     engine.Options{DataDir: data},
			Live:       capture.LiveConfig{Interfaces: []string{capIf}},
			SocketPath: sock,
			Hardware: Hardware{
				LEDs:   map[string]led.LED{ledstate.StatusLED: status, ledstate.FaultLED: fault},
				Button: btn,
			},
		}, nil)
	}()
	client := control.Dial(sock)
	defer client.Close()
	if !waitFor(10*time.Second, func() bool { _, err := client.Status(ctx); return err == nil }) {
		t.Fatal("daemon did not come up")
	}
	wait := func(want led.State) {
		t.Helper()
		wctx, c := context.WithTimeout(ctx, 10*time.Second)
		defer c()
		if err := status.WaitFor(wctx, want); err != nil {
			t.Fatalf("status LED never showed %v (history %v)", want, status.History())
		}
	}
	wait(led.Blinking(ledstate.SlowBlink, ledstate.SlowBlink)) // idle

	audio, err := os.ReadFile(filepath.Join(repoRoot(), "testdata", "sample_caller.ulaw"))
	if err != nil {
		t.Fatal(err)
	}
	call := simcall.Generate(simcall.Call{CallerAudio: audio, CalleeAudio: audio, Talk: 6 * time.Second,
		Start: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}, simcall.Options{})
	sent := make(chan error, 1)
	go func() { sent <- replay(ctx, send, call) }()

	wait(led.Steady(true)) // recording
	time.Sleep(1500 * time.Millisecond)
	if err := btn.Send(ctx, button.Press{Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	wait(led.Blinking(ledstate.FastBlink, ledstate.FastBlink)) // paused
	time.Sleep(1500 * time.Millisecond)
	if err := btn.Send(ctx, button.Press{Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	wait(led.Steady(true)) // recording again
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	wait(led.Blinking(ledstate.SlowBlink, ledstate.SlowBlink)) // the call ended
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	ix, err := index.Open(datadir.Layout(data).Index())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	var got []*index.Call
	ix.List(func(c *index.Call) error { got = append(got, c); return nil })
	if len(got) != 1 || !got[0].Recorded {
		t.Fatalf("index: %+v", got)
	}
	checkSilentPause(t, data, got[0], "button")
}

// checkSilentPause checks that c has one finished pause by source, that
// its span in the WAV is silent with a cue point at each end, and that
// there is audio before it.
func checkSilentPause(t *testing.T, data string, c *index.Call, source string) {
	t.Helper()
	if len(c.Pauses) != 1 || c.Pauses[0].Source != source || c.Pauses[0].End.IsZero() {
		t.Fatalf("pauses: %+v, want one by %s", c.Pauses, source)
	}
	p, err := wav.ReadFile(filepath.Join(data, c.File))
	if err != nil {
		t.Fatal(err)
	}
	from := int(c.Pauses[0].Start.Sub(c.Answer) * 8000 / time.Second)
	to := int(c.Pauses[0].End.Sub(c.Answer) * 8000 / time.Second)
	if to-from < 8000 {
		t.Fatalf("pause of %d samples", to-from)
	}
	var inside, before float64
	for i := from; i < to && 2*i+1 < len(p.Samples); i++ {
		inside += abs(p.Samples[2*i]) + abs(p.Samples[2*i+1])
	}
	for i := 0; i < from; i++ {
		before += abs(p.Samples[2*i])
	}
	t.Logf("pause %.2fs..%.2fs; energy inside %.0f, before %.0f; cues %+v", float64(from)/8000, float64(to)/8000, inside, before, p.Cues)
	if inside != 0 || before == 0 || len(p.Cues) != 2 {
		t.Fatalf("paused span not silent (%.0f) or audio before it missing (%.0f), cues %+v", inside, before, p.Cues)
	}
}

func abs(v int16) float64 {
	if v < 0 {
		return -float64(v)
	}
	return float64(v)
}
