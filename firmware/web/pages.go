package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"spanrec/firmware/control"
	"spanrec/firmware/index"
	"spanrec/firmware/users"
	"spanrec/media/wav"
)

// PageSize is how many recordings a page of the list shows.
const PageSize = 25

// maxPage bounds the page number of the list.
const maxPage = control.MaxRecordingsLimit / PageSize

// route is one page: its pattern and the control endpoint whose
// permission it needs (control.Permission: the route table is the one
// home of who may do what). No api and not loggedIn: open to anyone.
type route struct {
	pattern  string
	api      string
	perm     users.Permission // a page of the web UI alone: its permission
	loggedIn bool
	handle   http.HandlerFunc
}

func (s *Server) routes() []route {
	return []route{
		{pattern: "GET /{$}", loggedIn: true, handle: s.home},
		{pattern: "GET /login", handle: s.loginPage},
		{pattern: "POST /login", handle: s.login},
		{pattern: "POST /logout", loggedIn: true, handle: s.logout},
		{pattern: "GET /status", api: "GET /v1/status", handle: s.status},
		{pattern: "GET /calls", api: "GET /v1/calls", handle: s.calls},
		{pattern: "POST /calls/{id}/pause", api: "POST /v1/calls/{id}/pause", handle: func(w http.ResponseWriter, r *http.Request) { s.action(w, r, true) }},
		{pattern: "POST /calls/{id}/resume", api: "POST /v1/calls/{id}/resume", handle: func(w http.ResponseWriter, r *http.Request) { s.action(w, r, false) }},
		{pattern: "GET /recordings", api: "GET /v1/recordings", handle: s.recordings},
		{pattern: "GET /recordings/{id}", api: "GET /v1/recordings/{id}", handle: s.recording},
		{pattern: "GET /recordings/{id}/audio", api: "GET /v1/recordings/{id}", handle: func(w http.ResponseWriter, r *http.Request) { s.file(w, r, false) }},
		{pattern: "GET /recordings/{id}/picture.png", api: "GET /v1/recordings/{id}", handle: s.picture},
		{pattern: "GET /recordings/{id}/download", api: "GET /v1/recordings/{id}", handle: func(w http.ResponseWriter, r *http.Request) { s.file(w, r, true) }},
	}
}

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"utc": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	},
	"secs": func(f float64) string { return (time.Duration(f * float64(time.Second))).Round(time.Second).String() },
	"mb":   func(b uint64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) },
	"u64":  func(n int64) uint64 { return uint64(max(n, 0)) },
	"perm": func(s string) users.Permission { return users.Permission(s) },
	"list": func(s ...string) []string { return s },
}

// page is what every template gets.
type page struct {
	ID   identity
	Data any
}

// render writes a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name string, id identity, data any) {
	t := s.pages[name]
	var b strings.Builder
	if err := t.Execute(&b, page{ID: id, Data: data}); err != nil {
		s.log.Error("web: template", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(b.String()))
}

// error answers an error page.
func (s *Server) error(w http.ResponseWriter, r *http.Request, code int, msg string) {
	id, _ := s.session(r)
	s.errorAs(w, r, id, code, msg)
}

func (s *Server) errorAs(w http.ResponseWriter, r *http.Request, id identity, code int, msg string) {
	s.render(w, r, code, "error.html", id, map[string]any{"Code": code, "Status": http.StatusText(code), "Message": msg})
}

// fail answers a daemon error with its HTTP status.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	code := control.HTTPStatus(err)
	if code == http.StatusInternalServerError {
		s.log.Warn("web: "+what+" failed", "err", err)
	}
	s.error(w, r, code, err.Error())
}

// home sends each account to its first page.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	id := identityOf(r)
	to := "/status"
	if id.Can(users.ViewRecordings) {
		to = "/recordings"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "status.html", identityOf(r), s.d.Status())
}

func (s *Server) calls(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "calls.html", identityOf(r), map[string]any{"Calls": s.d.Calls(), "All": control.AllCalls})
}

// action pauses or resumes a call ("all": every call) through the same
// Daemon.Pause/Resume the console's requests reach, as web:<account>.
func (s *Server) action(w http.ResponseWriter, r *http.Request, pause bool) {
	id := identityOf(r)
	call := r.PathValue("id")
	verb, fn := "resume", s.d.Resume
	if pause {
		verb, fn = "pause", s.d.Pause
	}
	err := fn(call, id.Source())
	result := "ok"
	if err != nil {
		result = err.Error()
	}
	s.audit(id.Source(), verb+" "+call, result)
	if err != nil {
		s.fail(w, r, verb, err)
		return
	}
	s.log.Info("web: "+verb, "call", call, "who", id.Source())
	http.Redirect(w, r, "/calls", http.StatusSeeOther)
}

// recordings lists the recordings matching the search form, a page at
// a time, in the order asked: the daemon answers the query
// (Recordings.SearchPage).
func (s *Server) recordings(w http.ResponseWriter, r *http.Request) {
	id := identityOf(r)
	form := r.URL.Query()
	q, pg, err := parseSearch(form)
	if err != nil {
		s.error(w, r, http.StatusBadRequest, err.Error())
		return
	}
	res, err := s.rec.SearchPage(id.Role, q)
	if err != nil {
		s.fail(w, r, "recordings", err)
		return
	}
	list := res.List
	flags := make([]map[string]any, 0, len(SearchFlags))
	for _, f := range SearchFlags {
		if f.Name == "quarantined" && !users.Can(id.Role, users.ViewQuarantined) {
			continue
		}
		flags = append(flags, map[string]any{"Name": f.Name, "Means": f.Means, "On": slices.Contains(q.Flags, f.Name)})
	}
	data := map[string]any{"S": &q, "Form": form, "Flags": flags, "List": list, "Total": res.Total, "Page": pg + 1,
		"Pages": (res.Total + PageSize - 1) / PageSize}
	if pg > 0 {
		data["Prev"] = pageURL(form, pg-1)
	}
	if q.Offset+len(res.List) < res.Total && pg+1 < maxPage {
		data["Next"] = pageURL(form, pg+1)
	}
	sorts := map[string]string{}
	for _, k := range []string{SortStart, SortDuration, SortParties} {
		o := url.Values{}
		for name, v := range form {
			o[name] = v
		}
		o.Del("page")
		o.Set("sort", k)
		dir := "desc"
		if k == SortParties {
			dir = "asc"
		}
		if k == q.Sort { // a second click reverses
			dir = map[bool]string{true: "desc", false: "asc"}[q.Ascending]
		}
		o.Set("order", dir)
		sorts[k] = "/recordings?" + o.Encode()
	}
	data["SortURL"] = sorts
	s.render(w, r, http.StatusOK, "recordings.html", id, data)
}

// pageURL is the recordings page of the same search at page pg.
func pageURL(form url.Values, pg int) string {
	v := url.Values{}
	for name, vals := range form {
		v[name] = vals
	}
	v.Del("page")
	if pg > 0 {
		v.Set("page", strconv.Itoa(pg))
	}
	if len(v) == 0 {
		return "/recordings"
	}
	return "/recordings?" + v.Encode()
}

// lookup returns the recording of the request's {id} the account may
// see, or answers 404.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) (index.Call, bool) {
	c, err := s.rec.Get(identityOf(r).Role, r.PathValue("id"))
	if err == nil && (!c.Recorded || c.File == "") {
		err = fmt.Errorf("%w: recording %s", index.ErrNotFound, r.PathValue("id"))
	}
	if err != nil {
		s.fail(w, r, "recording", err)
		return index.Call{}, false
	}
	return c, true
}

// autoVerifySize is the largest file the one-recording page verifies by
// itself; a larger one is verified when asked (?verify=1).
const autoVerifySize = 32 << 20

// recordingPage is the one-recording page's data.
type recordingPage struct {
	*index.Call
	// Chain is the recording's link of the hash chain; ChainErr why not.
	Chain    *ChainPosition
	ChainErr string
	// Verify is `spanrec verify`'s result for the recording (nil: not
	// run, CanVerify: the account may ask); VerifyErr why it failed.
	Verify    *control.Verification
	VerifyErr string
	CanVerify bool
	// Cues are the WAV's cue points (pause, resume), with their time in
	// the recording.
	Cues []cue
	// CanRelease: the account may release a quarantine (with CSRF).
	CanRelease bool
	CSRF       string
	Notice     notice
}

func (s *Server) recording(w http.ResponseWriter, r *http.Request) {
	c, ok := s.lookup(w, r)
	if !ok {
		return
	}
	id := identityOf(r)
	p := recordingPage{Call: &c, CanVerify: id.Can(users.VerifyRecordings), CanRelease: id.Can(users.Configure), CSRF: id.CSRF, Notice: s.notice(r)}
	if !c.Raw() && c.Deleted.IsZero() {
		p.Cues = s.cues(identityOf(r).Role, c.ID)
	}
	if pos, err := s.rec.ChainPosition(c.ID); err != nil {
		p.ChainErr = err.Error()
	} else {
		p.Chain = &pos
	}
	if p.CanVerify && c.Deleted.IsZero() && (c.Size <= autoVerifySize || r.URL.Query().Get("verify") == "1") {
		v, err := s.verify(r, c.ID)
		if err != nil {
			p.VerifyErr = err.Error()
		} else {
			p.Verify = &v
		}
	}
	s.render(w, r, http.StatusOK, "recording.html", id, p)
}

// cue is a cue point of a recording.
type cue struct {
	At    string // from the recording's start, "1m02.5s"
	Label string
}

// cues reads the recording's cue points (its headers and trailer only);
// none when the file cannot be read (the page says why elsewhere).
func (s *Server) cues(viewer users.Role, id string) []cue {
	f, err := s.rec.Open(viewer, id)
	if err != nil {
		return nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil
	}
	p, err := wav.ReadMeta(f, st.Size())
	if err != nil || p.SampleRate <= 0 {
		return nil
	}
	out := make([]cue, 0, len(p.Cues))
	for _, c := range p.Cues {
		at := time.Duration(int64(c.Frame) * int64(time.Second) / int64(p.SampleRate))
		out = append(out, cue{At: at.Round(100 * time.Millisecond).String(), Label: c.Label})
	}
	return out
}

// verify runs the daemon's verification of one recording (the console's
// `verify ID`, as `spanrec verify` checks a file), in the work slot.
func (s *Server) verify(r *http.Request, id string) (control.Verification, error) {
	release, err := s.work(r)
	if err != nil {
		return control.Verification{}, err
	}
	defer release()
	return s.rec.Verify(r.Context(), identityOf(r).Role, id)
}

// file serves a recording's signed file: the WAV inline for the audio
// element (HTTP Range by http.ServeContent), or as a download (raw media
// only so).
func (s *Server) file(w http.ResponseWriter, r *http.Request, download bool) {
	c, ok := s.lookup(w, r)
	if !ok {
		return
	}
	if !download && c.Raw() {
		s.error(w, r, http.StatusNotFound, "raw media cannot be played: download it")
		return
	}
	f, err := s.rec.Open(identityOf(r).Role, c.ID)
	if err != nil {
		s.fail(w, r, "open recording", err)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		s.fail(w, r, "open recording", err)
		return
	}
	name := path.Base(c.File)
	ctype := "audio/wav"
	if c.Raw() {
		ctype = "application/vnd.tcpdump.pcap"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "private, no-store")
	if download {
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	}
	http.ServeContent(w, r, name, st.ModTime(), f)
}
