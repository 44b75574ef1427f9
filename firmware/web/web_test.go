package web_test

import (
	"bytes"
	"cmp"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"spanrec/firmware/datadir"
	"spanrec/firmware/index"
	"spanrec/firmware/keys"
	"spanrec/firmware/users"
	"spanrec/firmware/web"
	"spanrec/media/sign"
	"spanrec/media/waveform"
)

// TestRoleMatrix: each role's pages over TLS, as the control API's route
// table allows them: auditors see recordings and status, technicians
// status and live calls but no recording, quarantined recordings are the
// admin's alone.
func TestRoleMatrix(t *testing.T) {
	e := newEnv(t, nil)
	rec, qua := "/recordings/"+e.rec.ID, "/recordings/"+e.quarantined.ID
	type want map[users.Role]int
	const ok, no, missing = http.StatusOK, http.StatusForbidden, http.StatusNotFound
	pages := []struct {
		path string
		want want
	}{
		{"/recordings", want{users.Admin: ok, users.Technician: no, users.Auditor: ok}},
		{"/recordings?q=" + url.QueryEscape(e.rec.Callee), want{users.Admin: ok, users.Technician: no, users.Auditor: ok}},
		{rec, want{users.Admin: ok, users.Technician: no, users.Auditor: ok}},
		{rec + "/audio", want{users.Admin: ok, users.Technician: no, users.Auditor: ok}},
		{rec + "/download", want{users.Admin: ok, users.Technician: no, users.Auditor: ok}},
		{qua, want{users.Admin: ok, users.Technician: no, users.Auditor: missing}},
		{qua + "/audio", want{users.Admin: ok, users.Technician: no, users.Auditor: missing}},
		{rec + "/picture.png", want{users.Admin: ok, users.Technician: no, users.Auditor: ok}},
		{qua + "/picture.png", want{users.Admin: ok, users.Technician: no, users.Auditor: missing}},
		{"/recordings/no-such-id", want{users.Admin: missing, users.Technician: no, users.Auditor: missing}},
		{"/status", want{users.Admin: ok, users.Technician: ok, users.Auditor: ok}},
		{"/calls", want{users.Admin: ok, users.Technician: ok, users.Auditor: no}},
	}
	for _, role := range users.Roles() {
		c := e.client(t)
		e.login(t, c, role)
		for _, p := range pages {
			resp, body := e.do(t, c, "GET", p.path, "", nil)
			if resp.StatusCode != p.want[role] {
				t.Errorf("%s GET %s: %s, want %d: %.300s", role, p.path, resp.Status, p.want[role], body)
			}
			if got := resp.Header.Get("Content-Security-Policy"); got != web.CSP {
				t.Errorf("%s GET %s: CSP %q", role, p.path, got)
			}
		}
		// The list shows the quarantined copy to the admin only.
		_, body := e.do(t, c, "GET", "/recordings", "", nil)
		if role != users.Technician {
			if !strings.Contains(body, rec) || strings.Contains(body, qua) != (role == users.Admin) {
				t.Errorf("%s: list (quarantined shown: %v): %s", role, strings.Contains(body, qua), body)
			}
		}
		// Pause: technicians and admins, as web:<account>.
		code := http.StatusSeeOther
		if role == users.Auditor {
			code = no
		}
		resp, body := e.do(t, c, "POST", "/calls/live1/pause", e.base, url.Values{"csrf": {e.csrf(t, c)}})
		if resp.StatusCode != code {
			t.Errorf("%s pause: %s, want %d: %.300s", role, resp.Status, code, body)
		}
	}
	if got, want := e.calls.pauseSources(), []string{"web:ann", "web:tom"}; !slices.Equal(got, want) {
		t.Errorf("pauses by %v, want %v", got, want)
	}
	audit, err := e.ix.AuditTail(100)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, a := range audit {
		seen = append(seen, a.User+" "+a.Command+" "+a.Result)
	}
	for _, w := range []string{"web:tom pause live1 ok", "web:ann pause live1 ok", "web:aud login aud from 127.0.0.1 ok"} {
		if !slices.Contains(seen, w) {
			t.Errorf("audit log has no %q: %q", w, seen)
		}
	}
	if !slices.ContainsFunc(seen, func(s string) bool {
		return strings.HasPrefix(s, "web:aud POST /calls/live1/pause refused: permission denied")
	}) {
		t.Errorf("refused pause not audited: %q", seen)
	}
}

// TestNotLoggedIn: every page but the login sends to the login; a POST
// without a session is refused.
func TestNotLoggedIn(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t)
	for _, p := range []string{"/", "/recordings", "/recordings/" + e.rec.ID + "/audio", "/status", "/calls"} {
		resp, _ := e.do(t, c, "GET", p, "", nil)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
			t.Errorf("GET %s: %s to %q", p, resp.Status, resp.Header.Get("Location"))
		}
	}
	resp, _ := e.do(t, c, "POST", "/calls/all/pause", e.base, url.Values{"csrf": {"x"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST without a session: %s", resp.Status)
	}
	resp, body := e.do(t, c, "GET", "/login", "", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Security-Policy") != web.CSP || strings.Contains(body, "<script") {
		t.Errorf("login page: %s CSP %q", resp.Status, resp.Header.Get("Content-Security-Policy"))
	}
	if len(e.calls.pauseSources()) != 0 {
		t.Errorf("paused without a session: %v", e.calls.pauseSources())
	}
}

// TestSessionCookie: the cookie's flags; logout ends the session.
func TestSessionCookie(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t)
	resp := e.login(t, c, users.Auditor)
	var ck *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == web.CookieName {
			ck = k
		}
	}
	if ck == nil || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || len(ck.Value) != 2*users.TokenBytes {
		t.Fatalf("session cookie %+v", ck)
	}
	tok := e.csrf(t, c)
	resp, _ = e.do(t, c, "POST", "/logout", e.base, url.Values{"csrf": {tok}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %s", resp.Status)
	}
	// The old cookie, sent again by hand, is no session any more.
	c2 := e.client(t)
	u, _ := url.Parse(e.base)
	c2.Jar.SetCookies(u, []*http.Cookie{{Name: web.CookieName, Value: ck.Value}})
	if resp, _ := e.do(t, c2, "GET", "/recordings", "", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after logout: %s", resp.Status)
	}
}

// TestCSRF: a POST from another origin, with no origin at all, without
// the token or with another session's token is refused and does nothing;
// a login from another origin too.
func TestCSRF(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t)
	e.login(t, c, users.Technician)
	tok := e.csrf(t, c)
	other := e.client(t)
	e.login(t, other, users.Admin)
	otherTok := e.csrf(t, other)
	for _, tc := range []struct {
		name, origin string
		form         url.Values
		hdr          []string
	}{
		{"foreign origin", "https://evil.example", url.Values{"csrf": {tok}}, nil},
		{"http origin", strings.Replace(e.base, "https", "http", 1), url.Values{"csrf": {tok}}, nil},
		{"no origin or referer", "", url.Values{"csrf": {tok}}, nil},
		{"foreign referer", "", url.Values{"csrf": {tok}}, []string{"Referer", "https://evil.example/x"}},
		{"no token", e.base, url.Values{}, nil},
		{"wrong token", e.base, url.Values{"csrf": {strings.Repeat("0", len(tok))}}, nil},
		{"another session's token", e.base, url.Values{"csrf": {otherTok}}, nil},
	} {
		resp, body := e.do(t, c, "POST", "/calls/all/pause", tc.origin, tc.form, tc.hdr...)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %s %.200s", tc.name, resp.Status, body)
		}
	}
	if got := e.calls.pauseSources(); len(got) != 0 {
		t.Fatalf("a refused POST paused: %v", got)
	}
	// Same origin by Referer alone, with the token: done.
	resp, _ := e.do(t, c, "POST", "/calls/all/pause", "", url.Values{"csrf": {tok}}, "Referer", e.base+"/calls")
	if resp.StatusCode != http.StatusSeeOther || !slices.Equal(e.calls.pauseSources(), []string{"web:tom"}) {
		t.Errorf("same-origin pause: %s %v", resp.Status, e.calls.pauseSources())
	}
	a := accounts[users.Admin]
	resp, _ = e.do(t, e.client(t), "POST", "/login", "https://evil.example", url.Values{"name": {a[0]}, "password": {a[1]}})
	if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Errorf("cross-origin login: %s %v", resp.Status, resp.Cookies())
	}
}

// TestLoginThrottle: every failure answers "Login incorrect"; the next
// attempt from the address waits users.FailureDelay, on the injected
// clock; the right password then gets in.
func TestLoginThrottle(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, clock)
	c := e.client(t)
	a := accounts[users.Auditor]
	for _, name := range []string{a[0], "nobody"} {
		resp, body := e.do(t, c, "POST", "/login", e.base, url.Values{"name": {name}, "password": {"wrong-password"}})
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Login incorrect") {
			t.Fatalf("bad login %s: %s %.300s", name, resp.Status, body)
		}
		resp, body = e.do(t, c, "POST", "/login", e.base, url.Values{"name": {a[0]}, "password": {a[1]}})
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("login right after a failure: %s %.300s", resp.Status, body)
		}
		mu.Lock()
		now = now.Add(users.DefaultMaxFailureDelay)
		mu.Unlock()
	}
	e.login(t, c, users.Auditor)
}

// TestAudioRange: the audio element's requests: a byte range is served
// as 206 with the file's bytes; the download is the whole signed file,
// and it verifies.
func TestAudioRange(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t)
	e.login(t, c, users.Auditor)
	file, err := os.ReadFile(filepath.Join(e.dir, filepath.FromSlash(e.rec.File)))
	if err != nil {
		t.Fatal(err)
	}
	path := "/recordings/" + e.rec.ID + "/audio"
	resp, body := e.do(t, c, "GET", path, "", nil, "Range", "bytes=100-1099")
	if resp.StatusCode != http.StatusPartialContent || body != string(file[100:1100]) ||
		resp.Header.Get("Content-Range") != "bytes 100-1099/"+itoa(len(file)) || resp.Header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("range: %s %q %q, %d bytes", resp.Status, resp.Header.Get("Content-Range"), resp.Header.Get("Content-Type"), len(body))
	}
	resp, body = e.do(t, c, "GET", path, "", nil, "Range", "bytes=-16")
	if resp.StatusCode != http.StatusPartialContent || body != string(file[len(file)-16:]) {
		t.Fatalf("suffix range: %s", resp.Status)
	}
	if resp, _ := e.do(t, c, "GET", path, "", nil, "Range", "bytes="+itoa(len(file)+10)+"-"); resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("range past the end: %s", resp.Status)
	}
	resp, body = e.do(t, c, "GET", "/recordings/"+e.rec.ID+"/download", "", nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") || body != string(file) {
		t.Fatalf("download: %s %q, %d bytes", resp.Status, resp.Header.Get("Content-Disposition"), len(body))
	}
	pub, err := keys.LoadPublic(datadir.Layout(e.dir).PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if err := sign.Verify(bytes.NewReader([]byte(body)), int64(len(body)), pub); err != nil {
		t.Fatalf("downloaded file does not verify: %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestPicture: the one-recording page shows the picture of both channels,
// a PNG drawn from the signed WAV (the sample call's caller and callee
// both speak); the second request is answered from the cache (and 304
// with its ETag); a raw-media entry has none, and its page says so.
func TestPicture(t *testing.T) {
	e := newEnv(t, nil, pausedCapture(t))
	raw := e.rec
	raw.ID, raw.CallID, raw.Media = index.NewID(raw.Start), "raw@test", index.MediaRaw
	if err := e.ix.Put(&raw); err != nil {
		t.Fatal(err)
	}
	c := e.client(t)
	e.login(t, c, users.Auditor)
	_, page := e.do(t, c, "GET", "/recordings/"+e.rec.ID, "", nil)
	if !strings.Contains(page, `<img id="picture" src="/recordings/`+e.rec.ID+`/picture.png"`) {
		t.Fatalf("no picture on the page: %s", page)
	}
	path := "/recordings/" + e.rec.ID + "/picture.png"
	resp, body := e.do(t, c, "GET", path, "", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("picture: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	img, err := png.Decode(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	o := waveform.Options{}
	if img.Bounds().Size() != o.Size() {
		t.Fatalf("picture of %v, want %v", img.Bounds().Size(), o.Size())
	}
	for ch, c := range []uint8{waveform.Wave0, waveform.Wave1} {
		n, band := 0, o.Band(ch)
		want := waveform.Palette[c]
		for x := band.Min.X; x < band.Max.X; x++ {
			for y := band.Min.Y; y < band.Max.Y; y++ {
				if img.At(x, y) == want {
					n++
				}
			}
		}
		if n == 0 {
			t.Errorf("channel %d: nothing drawn in its band", ch)
		}
	}
	resp2, body2 := e.do(t, c, "GET", path, "", nil)
	if resp2.StatusCode != http.StatusOK || body2 != body {
		t.Errorf("second picture: %s, same bytes %v", resp2.Status, body2 == body)
	}
	if resp, _ := e.do(t, c, "GET", path, "", nil, "If-None-Match", resp.Header.Get("ETag")); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %s", resp.Status)
	}
	// Many at once (one renders at a time; the others wait or hit the
	// cache): the same picture for each.
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Go(func() {
			resp, err := c.Get(e.base + "/recordings/" + e.paused.ID + "/picture.png")
			if err != nil {
				got[i] = err.Error()
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			got[i] = resp.Status + string(b)
		})
	}
	wg.Wait()
	for i := range got {
		if got[i] != got[0] || !strings.HasPrefix(got[i], "200 OK\x89PNG") {
			t.Fatalf("concurrent picture %d: %.40q", i, got[i])
		}
	}
	if resp, _ := e.do(t, c, "GET", "/recordings/"+raw.ID+"/picture.png", "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("raw media picture: %s", resp.Status)
	}
	if _, page := e.do(t, c, "GET", "/recordings/"+raw.ID, "", nil); !strings.Contains(page, `id="no-picture"`) || strings.Contains(page, `id="picture"`) {
		t.Errorf("raw media page: %s", page)
	}
}

var recRE = regexp.MustCompile(`<a class="rec" href="/recordings/([^"]+)"`)

// TestRecordingsFilters: the recordings page's form is a query the daemon
// answers: date range, direction, rule/queue/trunk and flags filter,
// start/duration/parties sort both ways, pages follow the same search;
// nonsense is refused; quarantined entries are an admin's alone.
func TestRecordingsFilters(t *testing.T) {
	e := newEnv(t, nil)
	byID := map[string]index.Call{e.rec.ID: e.rec, e.quarantined.ID: e.quarantined}
	dirs := []string{"inbound", "outbound", "internal"}
	for i := range 30 {
		c := e.rec
		c.Start = e.rec.Start.Add(time.Duration(i+1) * time.Minute)
		c.ID, c.CallID = index.NewID(c.Start), fmt.Sprintf("copy%d@test", i)
		c.Caller, c.DurationS, c.Direction = fmt.Sprintf("1%03d", (i*7)%30), float64(i%7), dirs[i%3]
		c.Rule, c.OneWay, c.Incomplete = fmt.Sprintf("rule%d", i%2), i%4 == 0, i%6 == 0
		if i%5 == 0 {
			c.Trunk = "Carrier"
		}
		if err := e.ix.Put(&c); err != nil {
			t.Fatal(err)
		}
		byID[c.ID] = c
	}
	c := e.client(t)
	e.login(t, c, users.Auditor)
	get := func(query string) []index.Call {
		t.Helper()
		resp, body := e.do(t, c, "GET", "/recordings?"+query, "", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s %s", query, resp.Status, body)
		}
		var list []index.Call
		for _, m := range recRE.FindAllStringSubmatch(body, -1) {
			list = append(list, byID[m[1]])
		}
		return list
	}
	check := func(query string, want int, ok func(*index.Call) bool) []index.Call {
		t.Helper()
		list := get(query)
		if len(list) != want {
			t.Errorf("%s: %d rows, want %d", query, len(list), want)
		}
		for i := range list {
			if !ok(&list[i]) {
				t.Errorf("%s: row %+v", query, list[i])
			}
		}
		return list
	}
	check("direction=inbound", 10, func(c *index.Call) bool { return c.Direction == "inbound" })
	check("flag=one_way&flag=incomplete", 3, func(c *index.Call) bool { return c.OneWay && c.Incomplete }) // 0, 12, 24
	check("trunk=carrier&rule=rule0", 3, func(c *index.Call) bool { return c.Trunk == "Carrier" && c.Rule == "rule0" })
	day := e.rec.Start.UTC().Format("2006-01-02")
	next := e.rec.Start.UTC().AddDate(0, 0, 1).Format("2006-01-02")
	check("from="+day+"&to="+day, web.PageSize, func(*index.Call) bool { return true })
	check("from="+next, 0, nil)
	// Newest first by default; longest first, parties A to Z; reversed.
	list := check("", web.PageSize, func(*index.Call) bool { return true })
	if !slices.IsSortedFunc(list, func(a, b index.Call) int { return b.Start.Compare(a.Start) }) {
		t.Error("default order is not newest first")
	}
	list = check("sort=duration", web.PageSize, func(*index.Call) bool { return true })
	if !slices.IsSortedFunc(list, func(a, b index.Call) int { return cmp.Compare(b.DurationS, a.DurationS) }) || list[0].ID != e.rec.ID || list[1].DurationS != 6 {
		t.Errorf("by duration: %v", durations(list))
	}
	list = check("sort=duration&order=asc&direction=outbound", 10, func(c *index.Call) bool { return c.Direction == "outbound" })
	if !slices.IsSortedFunc(list, func(a, b index.Call) int { return cmp.Compare(a.DurationS, b.DurationS) }) {
		t.Errorf("by duration ascending: %v", durations(list))
	}
	list = check("sort=parties", web.PageSize, func(*index.Call) bool { return true })
	if !slices.IsSortedFunc(list, func(a, b index.Call) int { return cmp.Compare(a.Caller, b.Caller) }) || list[0].Caller != "1000" {
		t.Errorf("by parties: first %s", list[0].Caller)
	}
	// Pages: 31 recordings the auditor may see, 25 and 6; the next page
	// keeps the search.
	_, body := e.do(t, c, "GET", "/recordings?sort=duration", "", nil)
	if !strings.Contains(body, `<p id="total">31 recordings match.</p>`) || !strings.Contains(body, `href="/recordings?page=1&amp;sort=duration" id="next"`) {
		t.Errorf("page 1: %s", body)
	}
	seen := map[string]bool{}
	for _, c := range append(get("sort=duration&order=desc"), check("sort=duration&order=desc&page=1", 6, func(*index.Call) bool { return true })...) {
		seen[c.ID] = true
	}
	if len(seen) != 31 {
		t.Errorf("two pages hold %d recordings, want 31", len(seen))
	}
	for _, bad := range []string{"flag=bogus", "sort=caller", "order=up", "from=yesterday", "from=" + next + "&to=" + day, "direction=sideways", "page=-1", "q=" + strings.Repeat("x", 300)} {
		if resp, _ := e.do(t, c, "GET", "/recordings?"+bad, "", nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %s", bad, resp.Status)
		}
	}
	// Quarantine: not even a flag for the auditor; the admin's own.
	check("flag=quarantined", 0, nil)
	if strings.Contains(body, `id="flag-quarantined"`) {
		t.Error("the auditor is offered the quarantined flag")
	}
	a := e.client(t)
	e.login(t, a, users.Admin)
	c = a
	check("flag=quarantined", 1, func(c *index.Call) bool { return c.ID == e.quarantined.ID })
}

func durations(list []index.Call) []float64 {
	var d []float64
	for _, c := range list {
		d = append(d, c.DurationS)
	}
	return d
}

// TestVerifyOnPage: the one-recording page says what `spanrec verify`
// says of the recording (valid, the key) and where it is in the hash
// chain; after a byte of its audio changes, INVALID with the reason.
func TestVerifyOnPage(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t)
	e.login(t, c, users.Auditor)
	path := "/recordings/" + e.rec.ID
	_, page := e.do(t, c, "GET", path, "", nil)
	for _, want := range []string{`<td id="verify-result"><span class="ok">valid</span>: 1 file checked`,
		`<td id="chain-seq">entry 1 <span class="ok">linked to the entry before</span>`, `(none: the chain&#39;s first entry)`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q: %s", want, page)
		}
	}
	file := filepath.Join(e.dir, filepath.FromSlash(e.rec.File))
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b[1000] ^= 0x55
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, page = e.do(t, c, "GET", path, "", nil)
	if !strings.Contains(page, `<span class="error">INVALID</span>`) || !strings.Contains(page, `<td class="error problem">hash mismatch: file sha256`) {
		t.Errorf("tampered file: %s", page)
	}
}

// TestPicturePause: a call paused by *1 has its paused span shaded in
// both bands of its picture where the index has it (the WAV starts at
// the answer), nothing drawn there, both sides drawn before it, and its
// two cue points as lines.
func TestPicturePause(t *testing.T) {
	e := newEnv(t, nil, pausedCapture(t))
	c := e.client(t)
	e.login(t, c, users.Auditor)
	resp, body := e.do(t, c, "GET", "/recordings/"+e.paused.ID+"/picture.png", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("picture: %s", resp.Status)
	}
	img, err := png.Decode(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	o := waveform.Options{}
	p := e.paused
	total := p.End.Sub(p.Answer).Seconds()
	col := func(at time.Time) int { return int(at.Sub(p.Answer).Seconds() / total * float64(o.Size().X)) }
	from, to := col(p.Pauses[0].Start), col(p.Pauses[0].End)
	t.Logf("paused %v..%v of %.1f s: columns %d..%d", p.Pauses[0].Start.Sub(p.Answer), p.Pauses[0].End.Sub(p.Answer), total, from, to)
	is := func(x, y int, c uint8) bool { return img.At(x, y) == waveform.Palette[c] }
	for ch, wave := range []uint8{waveform.Wave0, waveform.Wave1} {
		band := o.Band(ch)
		drawn := 0
		for x := range o.Size().X {
			inside, outside := x > from+3 && x < to-3, x < from-3
			if !inside && !outside {
				continue
			}
			if got := is(x, band.Min.Y, waveform.Paused); got != inside {
				t.Fatalf("band %d column %d: shaded %v", ch, x, got)
			}
			for y := band.Min.Y; y < band.Max.Y; y++ {
				if is(x, y, wave) {
					if inside {
						t.Fatalf("band %d column %d: audio drawn inside the pause", ch, x)
					}
					drawn++
				}
			}
		}
		if drawn == 0 {
			t.Errorf("band %d: nothing drawn before the pause", ch)
		}
	}
	lines := 0
	for x := range o.Size().X {
		if is(x, 0, waveform.Cue) && is(x, o.Band(1).Max.Y-1, waveform.Cue) {
			lines++
		}
	}
	if lines != 2 {
		t.Errorf("%d cue lines, want 2 (pause, resume)", lines)
	}
	_, page := e.do(t, c, "GET", "/recordings/"+e.paused.ID, "", nil)
	if !strings.Contains(page, `<td class="cue-point">2s: pause (dtmf)</td>`) || !strings.Contains(page, `<td class="cue-point">5.2s: resume (dtmf)</td>`) {
		t.Errorf("the page lists no cue points: %s", page)
	}
}

// TestDeletedRecording: a recording whose file was deleted (offloaded)
// keeps its page, which says so and where the copy is, with no audio,
// picture or download; those routes answer 404.
func TestDeletedRecording(t *testing.T) {
	e := newEnv(t, nil)
	d := e.rec
	d.ID, d.CallID = index.NewID(d.Start), "deleted@test"
	d.Offloaded, d.Remote = d.Start.Add(time.Hour), "smb://nas/recordings/x.wav"
	d.Deleted, d.DeleteReason = d.Start.Add(2*time.Hour), "offloaded"
	if err := e.ix.Put(&d); err != nil {
		t.Fatal(err)
	}
	c := e.client(t)
	e.login(t, c, users.Auditor)
	_, page := e.do(t, c, "GET", "/recordings/"+d.ID, "", nil)
	if !strings.Contains(page, `id="deleted"`) || !strings.Contains(page, "smb://nas/recordings/x.wav") || strings.Contains(page, `id="audio"`) || strings.Contains(page, `id="picture"`) {
		t.Errorf("deleted recording's page: %s", page)
	}
	for _, p := range []string{"/audio", "/picture.png", "/download"} {
		if resp, _ := e.do(t, c, "GET", "/recordings/"+d.ID+p, "", nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s of a deleted recording: %s", p, resp.Status)
		}
	}
}
