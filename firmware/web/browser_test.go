package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

// BrowserEnv, set to "after", skips TestBrowser: make test runs it after
// the rest of the suite, by itself.
const BrowserEnv = "SPANREC_BROWSER"

// ScreenshotsEnv names the environment variable that, set to a
// directory, makes TestBrowser write a screenshot of each page there
// (make screenshots: docs/screenshots).
const ScreenshotsEnv = "SPANREC_SCREENSHOTS"

// TestBrowser drives a real headless Chromium as a person would: an
// auditor logs in, searches the sample capture's recording and filters
// the list by date and order, opens it, sees the picture of both channels
// and the verification, plays it (the audio element's time advances) and
// downloads it (the bytes verify); a technician is refused the recordings
// and the accounts; an admin creates an account and releases a
// quarantined recording, and a form on another origin posting to the
// appliance is refused.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no browser (the ARM runs under qemu-user start none)")
	}
	if os.Getenv(BrowserEnv) == "after" {
		t.Skip(BrowserEnv + "=after: make test runs this test after the others, alone (Chromium abandons page loads, net::ERR_NETWORK_CHANGED, when the lab tests beside it add and remove interfaces)")
	}
	exe := chromium(t)
	e := newEnv(t, nil, pausedCapture(t))
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
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 860)); err != nil {
		t.Fatal(err)
	}
	shots := os.Getenv(ScreenshotsEnv)
	shot := func(name string) {
		t.Helper()
		if shots == "" {
			return
		}
		b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	login := func(role users.Role) {
		t.Helper()
		a := accounts[role]
		if err := chromedp.Do(ctx,
			navigate(e.base+"/login"),
			chromedp.WaitVisible(chromedp.ID("name")),
		); err != nil {
			t.Fatalf("login page: %v", err)
		}
		if role == users.Auditor {
			shot("login")
		}
		if err := chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.ID("name"), a[0]),
			chromedp.SendKeys(chromedp.ID("password"), a[1]),
			chromedp.Click(chromedp.ID("submit")),
			chromedp.WaitVisible(chromedp.ID("account")),
		); err != nil {
			t.Fatalf("log in as %s: %v", a[0], err)
		}
	}
	// submit clicks the form's button and waits for the list it asked
	// for: the page before it (marked first) has rows too.
	submit := func() chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			return chromedp.Do(ctx,
				chromedp.SetAttributeValue(chromedp.CSS("body"), "data-submitted", "1"),
				chromedp.Click(chromedp.ID("go")),
				chromedp.WaitVisible(chromedp.CSS("body:not([data-submitted]) #recordings a.rec")))
		})
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
		submit(),
	); err != nil {
		t.Fatalf("search: %v", err)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.Contains(loc, "q=") {
		t.Fatalf("search page %q: %v", loc, err)
	}
	// Filter: the sample call's day, longest first.
	day := e.rec.Start.UTC().Format("2006-01-02")
	if err := chromedp.Do(ctx,
		navigate(e.base+"/recordings"),
		chromedp.WaitVisible(chromedp.ID("from")),
		chromedp.SetValue(chromedp.ID("from"), day),
		chromedp.SetValue(chromedp.ID("to"), day),
		chromedp.SetValue(chromedp.ID("sort"), "duration"),
		submit(),
	); err != nil {
		t.Fatalf("filter: %v", err)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.Contains(loc, "from="+day) || !strings.Contains(loc, "sort=duration") {
		t.Fatalf("filtered page %q: %v", loc, err)
	}
	if got := text("#total"); got != "1 recording match." { // not the quarantined copy
		t.Fatalf("filtered: %q", got)
	}
	shot("recordings")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#recordings a.rec")),
		chromedp.WaitVisible(chromedp.ID("audio")),
	); err != nil {
		t.Fatalf("open the recording: %v", err)
	}
	if got := text("#rec-id"); got != e.rec.ID {
		t.Fatalf("recording page shows %q, want %q", got, e.rec.ID)
	}
	// The picture is loaded (drawn by the appliance, allowed by the CSP).
	width, err := chromedp.Run(ctx, chromedp.Poll[int](`(i => i.complete && i.naturalWidth)(document.getElementById("picture"))`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(0)))
	if err != nil || width != 1200 {
		t.Fatalf("the picture: natural width %d, %v", width, err)
	}
	if v := text("#verify-result"); !strings.HasPrefix(v, "valid: 1 file checked") {
		t.Fatalf("verification on the page: %q", v)
	}
	if v := text("#chain-seq"); !strings.Contains(v, "linked to the entry before") {
		t.Fatalf("chain position on the page: %q", v)
	}
	// The paused call's page: its picture (the pause shaded) for the
	// screenshot.
	if err := chromedp.Do(ctx, navigate(e.base+"/recordings/"+e.paused.ID), chromedp.WaitVisible(chromedp.ID("picture"))); err != nil {
		t.Fatalf("the paused recording: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[int](`(i => i.complete && i.naturalWidth)(document.getElementById("picture"))`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(0))); err != nil {
		t.Fatalf("the paused recording's picture: %v", err)
	}
	shot("recording")
	if err := chromedp.Do(ctx, chromedp.NavigateBack(), chromedp.WaitVisible(chromedp.ID("audio"))); err != nil {
		t.Fatal(err)
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

	// Nor the configuration, nor the accounts.
	for _, page := range []string{"/admin/config", "/admin/users"} {
		if err := chromedp.Do(ctx, navigate(e.base+page), chromedp.WaitVisible(chromedp.ID("error"))); err != nil {
			t.Fatalf("auditor on %s: %v", page, err)
		}
		if msg := text("#error"); !strings.HasPrefix(msg, "permission denied: aud (auditor) may not") {
			t.Errorf("auditor on %s: %q", page, msg)
		}
	}

	// Log out; the technician has no recordings.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("name"))); err != nil {
		t.Fatalf("log out: %v", err)
	}
	login(users.Technician)
	if err := chromedp.Do(ctx, navigate(e.base+"/recordings/"+e.rec.ID), chromedp.WaitVisible(chromedp.ID("error"))); err != nil {
		t.Fatalf("technician on a recording: %v", err)
	}
	if msg := text("#error"); !strings.Contains(msg, "permission denied: tom (technician) may not view recordings") {
		t.Fatalf("technician on a recording: %q", msg)
	}
	if nav := text("header nav"); strings.Contains(nav, "Recordings") || !strings.Contains(nav, "Live calls") || strings.Contains(nav, "Users") {
		t.Errorf("technician's menu: %q", nav)
	}
	for _, page := range []string{"/admin/users", "/admin/audit"} {
		if err := chromedp.Do(ctx, navigate(e.base+page), chromedp.WaitVisible(chromedp.ID("error"))); err != nil {
			t.Fatalf("technician on %s: %v", page, err)
		}
		if msg := text("#error"); !strings.HasPrefix(msg, "permission denied: tom (technician) may not") {
			t.Errorf("technician on %s: %q", page, msg)
		}
	}
	// The technician pauses the live call from its row.
	if err := chromedp.Do(ctx, navigate(e.base+"/calls"), chromedp.WaitVisible(chromedp.CSS("#calls button.pause")),
		chromedp.Click(chromedp.CSS("#calls button.pause")), chromedp.WaitVisible(chromedp.CSS("#calls button.resume"))); err != nil {
		t.Fatalf("pause on the live calls page: %v", err)
	}
	if got := e.calls.pauseSources(); !slices.Equal(got, []string{"web:tom"}) {
		t.Errorf("pauses from the page: %q", got)
	}
	shot("calls")
	if err := chromedp.Do(ctx, navigate(e.base+"/status"), chromedp.WaitVisible(chromedp.ID("counters"))); err != nil {
		t.Fatalf("status: %v", err)
	}
	shot("status")

	// The admin: a new account, a quarantine released.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("name"))); err != nil {
		t.Fatalf("log out: %v", err)
	}
	login(users.Admin)
	if err := chromedp.Do(ctx,
		navigate(e.base+"/admin/users"),
		chromedp.WaitVisible(chromedp.ID("new-name")),
		chromedp.SendKeys(chromedp.ID("new-name"), "carol"),
		chromedp.SetValue(chromedp.ID("new-role"), "auditor"),
		chromedp.SendKeys(chromedp.ID("new-password"), "carol-password-6"),
		chromedp.Click(chromedp.ID("add")),
		chromedp.WaitVisible(chromedp.ID("done")),
	); err != nil {
		t.Fatalf("create an account: %v", err)
	}
	if got := text("#done"); got != "added carol (auditor)" {
		t.Fatalf("create an account: %q", got)
	}
	if u, err := e.account("carol"); err != nil || u.Role != users.Auditor {
		t.Fatalf("carol: %+v %v", u, err)
	}
	shot("users")
	if err := chromedp.Do(ctx,
		navigate(e.base+"/recordings/"+e.quarantined.ID),
		chromedp.WaitVisible(chromedp.ID("release")),
		chromedp.Click(chromedp.ID("release")),
		chromedp.WaitVisible(chromedp.ID("done")),
	); err != nil {
		t.Fatalf("release the quarantine: %v", err)
	}
	if c, err := e.ix.Get(e.quarantined.ID); err != nil || c.Quarantined {
		t.Fatalf("after the release: quarantined %v, %v", c != nil && c.Quarantined, err)
	}
	if err := chromedp.Do(ctx, navigate(e.base+"/admin/config"), chromedp.WaitVisible(chromedp.ID("config"))); err != nil {
		t.Fatalf("configuration: %v", err)
	}
	shot("config")
	if err := chromedp.Do(ctx, navigate(e.base+"/admin/audit"), chromedp.WaitVisible(chromedp.ID("audit"))); err != nil {
		t.Fatalf("audit log: %v", err)
	}
	if a := text("#audit"); !strings.Contains(a, "quarantine release "+e.quarantined.ID) || !strings.Contains(a, "users add carol auditor") {
		t.Errorf("audit log page: %q", a)
	}
	shot("audit")
	if err := chromedp.Do(ctx, navigate(e.base+"/admin/storage"), chromedp.WaitVisible(chromedp.ID("storage"))); err != nil {
		t.Fatalf("storage: %v", err)
	}
	shot("storage")

	// Another origin's page (same site: the session cookie goes along)
	// posts a form to the appliance: refused, nothing made.
	evil := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<form method="post" action="%s/admin/users"><input name="name" value="mallory"><input name="role" value="admin">`+
			`<input name="password" value="mallory-password-7"><input name="csrf" value="guess"><button id="evil">Win a prize</button></form>`, e.base)
	}))
	defer evil.Close()
	if err := chromedp.Do(ctx, navigate(evil.URL), chromedp.Click(chromedp.ID("evil")), chromedp.WaitVisible(chromedp.ID("error"))); err != nil {
		t.Fatalf("the other origin's form: %v", err)
	}
	if msg := text("#error"); msg != "cross-origin request refused" {
		t.Errorf("the other origin's form: %q", msg)
	}
	if _, err := e.account("mallory"); err == nil {
		t.Error("another origin's form made an account")
	}
	if err := ctx.Err(); errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("the browser session ran past its deadline")
	}
}

func ptr[T any](v T) *T { return &v }

// navigate loads url, again when Chromium gave up because the host's
// network changed under it (net::ERR_NETWORK_CHANGED: a test running
// beside this one made or removed an interface), which has nothing to do
// with the page.
func navigate(url string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		var err error
		for range 5 {
			if _, err = chromedp.Navigate(url)(ctx, t); err == nil || !strings.Contains(err.Error(), "ERR_NETWORK_CHANGED") {
				break
			}
		}
		return chromedp.Void{}, err
	}
}
