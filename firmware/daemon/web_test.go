package daemon

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"image/png"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/control"
	"spanrec/firmware/datadir"
	"spanrec/firmware/engine"
	"spanrec/firmware/index"
	"spanrec/firmware/users"
	"spanrec/firmware/web"
	"spanrec/media/waveform"
)

// TestWebPausesLiveCall runs the daemon on a live interface with the web
// UI on 127.0.0.1: status names its address and certificate (the client
// pins that fingerprint); a technician logged in on the web pauses the
// call being recorded and resumes it; the paused span is silent and
// indexed with source web:tom, and the audit log has both.
func TestWebPausesLiveCall(t *testing.T) {
	send, capIf := veth(t)
	data := t.TempDir()
	uopts := users.Options{Cost: bcrypt.MinCost}
	st, err := users.Open(datadir.Layout(data).Users(), uopts)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Add("ann", users.Admin, "admin-password"); err != nil {
		t.Fatal(err)
	}
	if err := st.Add("tom", users.Technician, "tom-password"); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(data, "spanrec.sock")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{
			Engine:     engine.Options{DataDir: data},
			Live:       capture.LiveConfig{Interfaces: []string{capIf}},
			SocketPath: sock,
			Console:    ConsoleOptions{Users: uopts},
			Web:        web.Config{Listen: "127.0.0.1:0"},
		}, nil)
	}()
	client := control.Dial(sock)
	defer client.Close()
	var w *control.Web
	if !waitFor(20*time.Second, func() bool {
		s, err := client.Status(ctx)
		w = s.Web
		return err == nil && w != nil
	}) {
		t.Fatal("daemon or its web UI did not come up")
	}
	base := "https://" + w.Listen
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			InsecureSkipVerify: true, // self-signed: pinned to the fingerprint status shows instead
			VerifyConnection: func(cs tls.ConnectionState) error {
				sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
				if got := strings.ReplaceAll(w.Fingerprint, ":", ""); !strings.EqualFold(got, hex.EncodeToString(sum[:])) {
					return errors.New("certificate is not the one status names")
				}
				return nil
			}}}}
	defer hc.CloseIdleConnections()
	post := func(path string, form url.Values) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "POST", base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	get := func(path string) string {
		t.Helper()
		resp, err := hc.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, resp.Status)
		}
		return string(b)
	}
	if resp := post("/login", url.Values{"name": {"tom"}, "password": {"tom-password"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %s", resp.Status)
	}
	m := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(get("/status"))
	if m == nil {
		t.Fatal("no CSRF token on the status page")
	}
	csrf := url.Values{"csrf": {m[1]}}

	audio, err := os.ReadFile(filepath.Join(repoRoot(), "testdata", "sample_caller.ulaw"))
	if err != nil {
		t.Fatal(err)
	}
	call := simcall.Generate(simcall.Call{CallerAudio: audio, CalleeAudio: audio, Talk: 6 * time.Second,
		Start: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}, simcall.Options{})
	sent := make(chan error, 1)
	go func() { sent <- replay(ctx, send, call) }()
	var live []control.Call
	if !waitFor(10*time.Second, func() bool {
		live, err = client.Calls(ctx)
		return err == nil && len(live) == 1 && !live[0].Answer.IsZero()
	}) {
		t.Fatalf("the call is not live: %+v %v", live, err)
	}
	id := live[0].ID
	time.Sleep(1500 * time.Millisecond) // audio before the pause (spacing, not an assertion)
	if resp := post("/calls/"+id+"/pause", csrf); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("pause: %s", resp.Status)
	}
	if !strings.Contains(get("/calls"), "paused") {
		t.Error("the live calls page does not show the call paused")
	}
	time.Sleep(1500 * time.Millisecond) // a paused span to check
	if resp := post("/calls/"+id+"/resume", csrf); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("resume: %s", resp.Status)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if !waitFor(30*time.Second, func() bool { live, err = client.Calls(ctx); return err == nil && len(live) == 0 }) {
		t.Fatalf("the call did not end: %+v", live)
	}
	// The admin sees the recording's picture: the paused span shaded in
	// both bands where the index says it was, nothing drawn in it.
	jar, _ = cookiejar.New(nil)
	hc.Jar = jar
	if resp := post("/login", url.Values{"name": {"ann"}, "password": {"admin-password"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin login: %s", resp.Status)
	}
	if page := get("/recordings/" + id); !strings.Contains(page, `<span class="ok">valid</span>`) {
		t.Errorf("the recording's page does not say it verifies: %s", page)
	}
	picture := get("/recordings/" + id + "/picture.png")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	ix, err := index.Open(datadir.Layout(data).Index())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	c, err := ix.Get(id)
	if err != nil || !c.Recorded {
		t.Fatalf("index: %+v %v", c, err)
	}
	checkSilentPause(t, data, c, "web:tom")
	checkPicturePause(t, picture, c)
	audit, err := ix.AuditTail(0)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, a := range audit {
		seen = append(seen, a.User+" "+a.Command+" "+a.Result)
	}
	for _, want := range []string{"web:tom pause " + id + " ok", "web:tom resume " + id + " ok"} {
		if !slices.Contains(seen, want) {
			t.Errorf("audit log has no %q: %q", want, seen)
		}
	}
}

// checkPicturePause checks that the PNG shows c's one pause where the
// index has it (the WAV starts at the answer): shaded in both bands,
// with no audio drawn in it, and audio drawn before it.
func checkPicturePause(t *testing.T, picture string, c *index.Call) {
	t.Helper()
	img, err := png.Decode(strings.NewReader(picture))
	if err != nil {
		t.Fatal(err)
	}
	o := waveform.Options{}
	total := c.End.Sub(c.Answer).Seconds()
	col := func(at time.Time) int { return int(at.Sub(c.Answer).Seconds() / total * float64(o.Size().X)) }
	// A margin of 150 ms each side: the index's times are when the
	// daemon took the request, the WAV's cue frames where the media was.
	margin := col(c.Answer.Add(150 * time.Millisecond))
	from, to := col(c.Pauses[0].Start), col(c.Pauses[0].End)
	t.Logf("picture: paused columns %d..%d of %d", from, to, o.Size().X)
	is := func(x, y int, want uint8) bool { return img.At(x, y) == waveform.Palette[want] }
	drawn := 0
	for ch, wave := range []uint8{waveform.Wave0, waveform.Wave1} {
		band := o.Band(ch)
		for x := from + margin; x < to-margin; x++ {
			if !is(x, band.Min.Y, waveform.Paused) {
				t.Fatalf("column %d of band %d is not shaded as paused", x, ch)
			}
			for y := band.Min.Y; y < band.Max.Y; y++ {
				if is(x, y, wave) {
					t.Fatalf("audio drawn at column %d of band %d, inside the pause", x, ch)
				}
			}
		}
		for x := 0; x < from-margin; x++ {
			if is(x, band.Min.Y, waveform.Paused) {
				t.Fatalf("column %d of band %d shaded before the pause", x, ch)
			}
			for y := band.Min.Y; y < band.Max.Y; y++ {
				if is(x, y, wave) {
					drawn++
				}
			}
		}
	}
	if drawn == 0 {
		t.Error("no audio drawn before the pause")
	}
}
