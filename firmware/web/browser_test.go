package web_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"spanrec/firmware/datadir"
	"spanrec/firmware/keys"
	"spanrec/firmware/users"
	"spanrec/media/sign"
)

// browserTimeout bounds the whole browser session (a deadline for the
// waits, not a measured time: every wait polls for its condition).
const browserTimeout = 3 * time.Minute

// chromium returns the browser's path, or skips the test.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH (Debian: apt-get install chromium)")
	return ""
}

// TestBrowser drives a real headless Chromium as a person would: an
// auditor logs in, searches the sample capture's recording, opens it,
// plays it (the audio element's time advances) and downloads it (the
// bytes verify); a technician is refused the recordings.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no browser (the ARM runs under qemu-user start none)")
	}
	exe := chromium(t)
	e := newEnv(t, nil)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.IgnoreCertErrors, // the appliance's self-signed certificate
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.UserDataDir(t.TempDir()),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	if err := chromedp.Do(bctx); err != nil { // starts the browser (no deadline on this first run)
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(bctx, browserTimeout)
	defer cancel()

	login := func(role users.Role) {
		t.Helper()
		a := accounts[role]
		if err := chromedp.Do(ctx,
			chromedp.Navigate(e.base+"/login"),
			chromedp.WaitVisible(chromedp.ID("name")),
			chromedp.SendKeys(chromedp.ID("name"), a[0]),
			chromedp.SendKeys(chromedp.ID("password"), a[1]),
			chromedp.Click(chromedp.ID("submit")),
			chromedp.WaitVisible(chromedp.ID("account")),
		); err != nil {
			t.Fatalf("log in as %s: %v", a[0], err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}

	// The auditor: search, open, play, download.
	login(users.Auditor)
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.ID("q")),
		chromedp.SendKeys(chromedp.ID("q"), e.rec.Callee),
		chromedp.Click(chromedp.ID("go")),
		chromedp.WaitVisible(chromedp.CSS("#recordings a.rec")),
	); err != nil {
		t.Fatalf("search: %v", err)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.Contains(loc, "q=") {
		t.Fatalf("search page %q: %v", loc, err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#recordings a.rec")),
		chromedp.WaitVisible(chromedp.ID("audio")),
	); err != nil {
		t.Fatalf("open the recording: %v", err)
	}
	if got := text("#rec-id"); got != e.rec.ID {
		t.Fatalf("recording page shows %q, want %q", got, e.rec.ID)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("audio").play().then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("play: %v", err)
	}
	pos, err := chromedp.Run(ctx, chromedp.Poll[float64](`(a => a.currentTime > 0.5 && a.currentTime)(document.getElementById("audio"))`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(0)))
	if err != nil {
		t.Fatalf("the audio element's time does not advance: %v", err)
	}
	t.Logf("played to %.2f s", pos)

	dir := t.TempDir()
	progress := chromedp.Events(ctx, browser.DownloadProgress)
	if err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: ptr(true)})
			return err
		}),
		chromedp.Click(chromedp.ID("download")),
	); err != nil {
		t.Fatalf("download: %v", err)
	}
	var got string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("download canceled")
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			got = filepath.Join(dir, ev.GUID)
			break
		}
	}
	pub, err := keys.LoadPublic(datadir.Layout(e.dir).PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if err := sign.VerifyFile(got, pub); err != nil {
		t.Fatalf("the downloaded file does not verify: %v", err)
	}
	want, _ := os.ReadFile(filepath.Join(e.dir, filepath.FromSlash(e.rec.File)))
	if b, err := os.ReadFile(got); err != nil || string(b) != string(want) {
		t.Fatalf("downloaded %d bytes (%v), the recording has %d", len(b), err, len(want))
	}

	// Log out; the technician has no recordings.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("name"))); err != nil {
		t.Fatalf("log out: %v", err)
	}
	login(users.Technician)
	if err := chromedp.Do(ctx, chromedp.Navigate(e.base+"/recordings/"+e.rec.ID), chromedp.WaitVisible(chromedp.ID("error"))); err != nil {
		t.Fatalf("technician on a recording: %v", err)
	}
	if msg := text("#error"); !strings.Contains(msg, "permission denied: tom (technician) may not view recordings") {
		t.Fatalf("technician on a recording: %q", msg)
	}
	if nav := text("header nav"); strings.Contains(nav, "Recordings") || !strings.Contains(nav, "Live calls") {
		t.Errorf("technician's menu: %q", nav)
	}
	if err := ctx.Err(); errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("the browser session ran past its deadline")
	}
}

func ptr[T any](v T) *T { return &v }
