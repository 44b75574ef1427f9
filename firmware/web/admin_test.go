package web_test

import (
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"spanrec/firmware/users"
)

// TestAdminPages: each role's admin pages as the route table gives them
// (accounts the admin's, the configuration readable by technicians, the
// audit log by auditors); every change POST needs the CSRF token and the
// same origin.
func TestAdminPages(t *testing.T) {
	e := newEnv(t, nil)
	type want map[users.Role]int
	const ok, no = http.StatusOK, http.StatusForbidden
	pages := []struct {
		path string
		want want
	}{
		{"/admin/users", want{users.Admin: ok, users.Technician: no, users.Auditor: no}},
		{"/admin/config", want{users.Admin: ok, users.Technician: ok, users.Auditor: no}},
		{"/admin/storage", want{users.Admin: ok, users.Technician: ok, users.Auditor: ok}},
		{"/admin/audit", want{users.Admin: ok, users.Technician: no, users.Auditor: ok}},
	}
	posts := []string{"/admin/users", "/admin/users/aud/role", "/admin/users/aud/password", "/admin/users/aud/delete", "/admin/users/aud/unlock",
		"/admin/config", "/recordings/" + e.quarantined.ID + "/release"}
	for _, role := range users.Roles() {
		c := e.client(t)
		e.login(t, c, role)
		for _, p := range pages {
			if resp, body := e.do(t, c, "GET", p.path, "", nil); resp.StatusCode != p.want[role] {
				t.Errorf("%s GET %s: %s, want %d: %.300s", role, p.path, resp.Status, p.want[role], body)
			}
		}
		tok := e.csrf(t, c)
		for _, p := range posts {
			// Without the token, from another origin: refused for all.
			if resp, _ := e.do(t, c, "POST", p, e.base, url.Values{"role": {"admin"}}); resp.StatusCode != no {
				t.Errorf("%s POST %s without a token: %s", role, p, resp.Status)
			}
			if resp, _ := e.do(t, c, "POST", p, "https://evil.example", url.Values{"csrf": {tok}, "role": {"admin"}}); resp.StatusCode != no {
				t.Errorf("%s POST %s from another origin: %s", role, p, resp.Status)
			}
			if role == users.Admin {
				continue
			}
			// With both, still not theirs.
			if resp, _ := e.do(t, c, "POST", p, e.base, url.Values{"csrf": {tok}, "role": {"admin"}, "key": {"calls.media_timeout"}, "value": {"1s"}}); resp.StatusCode != no {
				t.Errorf("%s POST %s: %s", role, p, resp.Status)
			}
		}
	}
	if u, err := e.account("aud"); err != nil || u.Role != users.Auditor {
		t.Fatalf("the auditor's account after the refusals: %+v %v", u, err)
	}
}

// TestAdminChanges: an admin creates an account (which logs in), changes
// its role and password, deletes it; changes the configuration (checked
// as `config check` does: a bad value saves nothing); releases a
// quarantined recording (the auditor sees it then); and each change is
// in the audit log page with the account.
func TestAdminChanges(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t)
	e.login(t, c, users.Admin)
	tok := e.csrf(t, c)
	post := func(path string, form url.Values) string {
		t.Helper()
		form.Set("csrf", tok)
		resp, body := e.do(t, c, "POST", path, e.base, form)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST %s: %s %s", path, resp.Status, body)
		}
		loc := resp.Header.Get("Location")
		_, page := e.do(t, c, "GET", loc, "", nil)
		return page
	}
	page := post("/admin/users", url.Values{"name": {"newbie"}, "role": {"auditor"}, "password": {"newbie-password-4"}})
	if !strings.Contains(page, `<p class="ok" id="done">added newbie (auditor)</p>`) || !strings.Contains(page, `<tr id="user-newbie">`) {
		t.Fatalf("after adding: %s", page)
	}
	n := e.client(t)
	if resp, _ := e.do(t, n, "POST", "/login", e.base, url.Values{"name": {"newbie"}, "password": {"newbie-password-4"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the new account's login: %s", resp.Status)
	}
	if page := post("/admin/users", url.Values{"name": {"Bad Name"}, "role": {"auditor"}, "password": {"whatever-password"}}); !strings.Contains(page, `id="change-error"`) {
		t.Errorf("a bad name: %s", page)
	}
	post("/admin/users/newbie/role", url.Values{"role": {"technician"}})
	post("/admin/users/newbie/password", url.Values{"password": {"second-password-5"}})
	if u, err := e.account("newbie"); err != nil || u.Role != users.Technician {
		t.Fatalf("newbie: %+v %v", u, err)
	}
	if resp, _ := e.do(t, e.client(t), "POST", "/login", e.base, url.Values{"name": {"newbie"}, "password": {"second-password-5"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login with the new password: %s", resp.Status)
	}
	if page := post("/admin/users/ann/delete", url.Values{}); !strings.Contains(page, "cannot delete the account they are logged in with") {
		t.Errorf("self-delete: %s", page)
	}
	post("/admin/users/newbie/delete", url.Values{})
	if _, err := e.account("newbie"); err == nil {
		t.Error("newbie not deleted")
	}

	page = post("/admin/config", url.Values{"key": {"calls.media_timeout"}, "value": {"45s"}})
	if !strings.Contains(page, `id="done">calls.media_timeout = 45s: saved`) || !strings.Contains(page, "media_timeout: 45s") {
		t.Errorf("config set: %s", page)
	}
	for _, want := range []string{`<tr><td><code>calls</code></td><td><span class="ok">at once</span>`, `<tr><td><code>web</code></td><td><span class="warning">at the next start</span>`} {
		if !strings.Contains(page, want) {
			t.Errorf("config page lacks %q", want)
		}
	}
	before, _ := os.ReadFile(e.configFile)
	if !strings.Contains(string(before), "media_timeout: 45s") || !strings.Contains(string(before), "# the test's configuration") {
		t.Errorf("configuration file: %s", before)
	}
	page = post("/admin/config", url.Values{"key": {"calls.media_timeout"}, "value": {"banana"}})
	if after, _ := os.ReadFile(e.configFile); string(after) != string(before) || !strings.Contains(page, `id="change-error"`) || !strings.Contains(page, "nothing saved") {
		t.Errorf("a bad value: file changed %v; %s", string(after) != string(before), page)
	}

	// The whole file: a comment kept, one reloaded section, one for the
	// next start; an invalid file saves nothing and says why.
	text := "# edited on the web\ncalls:\n  media_timeout: 50s\nweb:\n  listen: \"127.0.0.1:8443\"\n"
	page = post("/admin/config/file", url.Values{"yaml": {strings.ReplaceAll(text, "\n", "\r\n")}})
	if got, _ := os.ReadFile(e.configFile); string(got) != text || !strings.Contains(page, "; applied now: calls; at the next start: web</p>") {
		t.Errorf("replace: file %q; %s", got, page)
	}
	page = post("/admin/config/file", url.Values{"yaml": {"calls:\n  media_timeout: -5s\n"}})
	if got, _ := os.ReadFile(e.configFile); string(got) != text || !strings.Contains(page, `id="change-error"`) || !strings.Contains(page, "nothing saved") {
		t.Errorf("an invalid file: file %q; %s", got, page)
	}
	if page = post("/admin/config/file", url.Values{"yaml": {text}}); !strings.Contains(page, "no setting changed") {
		t.Errorf("the same file again: %s", page)
	}

	// Storage and offload: the settings beside the state; an offload run
	// asked for (none configured here: the page says so).
	_, page = e.do(t, c, "GET", "/admin/storage", "", nil)
	if !strings.Contains(page, `<pre class="settings" id="settings-storage">storage:`) || !strings.Contains(page, `id="settings-offload">offload:`) {
		t.Errorf("storage page: %s", page)
	}
	if page = post("/admin/offload", url.Values{}); !strings.Contains(page, `id="change-error"`) || !strings.Contains(page, "not configured") {
		t.Errorf("offload now: %s", page)
	}

	a := e.client(t)
	e.login(t, a, users.Auditor)
	if resp, _ := e.do(t, a, "POST", "/admin/offload", e.base, url.Values{"csrf": {e.csrf(t, a)}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the auditor's offload now: %s", resp.Status)
	}
	qpath := "/recordings/" + e.quarantined.ID
	if resp, _ := e.do(t, a, "GET", qpath, "", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the auditor sees the quarantined recording: %s", resp.Status)
	}
	page = post(qpath+"/release", url.Values{})
	if !strings.Contains(page, `id="done">quarantine released`) || strings.Contains(page, `id="quarantined"`) {
		t.Errorf("after the release: %s", page)
	}
	if resp, _ := e.do(t, a, "GET", qpath, "", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("the auditor after the release: %s", resp.Status)
	}
	if page := post(qpath+"/release", url.Values{}); !strings.Contains(page, "is not quarantined") {
		t.Errorf("a second release: %s", page)
	}

	_, audit := e.do(t, a, "GET", "/admin/audit", "", nil)
	for _, want := range []string{"users add newbie auditor", "users role newbie", "users passwd newbie", "users del newbie",
		"config set calls.media_timeout 45s", "config set calls.media_timeout banana", "config replace sha256:", "offload now", "quarantine release " + e.quarantined.ID} {
		if !strings.Contains(audit, `<td class="user">web:ann</td><td class="command">`+want) {
			t.Errorf("audit log page lacks %q", want)
		}
	}
	if strings.Contains(audit, "password-4") || strings.Contains(audit, "password-5") {
		t.Error("a password in the audit log")
	}
	// What a page says it did is the server's, not a link's; it is said
	// once.
	if _, page := e.do(t, c, "GET", "/admin/users?done=all+your+base&error=reboot+now", "", nil); strings.Contains(page, "your base") || strings.Contains(page, "reboot now") || strings.Contains(page, `id="done"`) {
		t.Errorf("the page says what the link said: %s", page)
	}
}
