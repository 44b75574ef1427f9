package config

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"spanrec/firmware/calls"
	"spanrec/firmware/capture"
	"spanrec/firmware/metrics"
	"spanrec/firmware/remotelog"
	"spanrec/firmware/storage"
	"spanrec/firmware/users"
	"spanrec/hal"
	"spanrec/media/quality"
	"strings"
	"testing"
	"time"
)

func noData(string) bool  { return false }
func hasData(string) bool { return true }

// problems returns the *Errors joined in err.
func problems(t *testing.T, err error) []*Error {
	t.Helper()
	if err == nil {
		return nil
	}
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	var out []*Error
	for _, e := range list {
		var ce *Error
		if !errors.As(e, &ce) {
			t.Fatalf("problem %v (%T) is not an *Error", e, e)
		}
		out = append(out, ce)
	}
	return out
}

func TestDefaults(t *testing.T) {
	c := DefaultFor(noData)
	want := Config{
		DataDir: "./var",
		Capture: capture.Settings{Promiscuous: true, RingMB: 8, SnapLen: 65535},
		Calls: calls.Settings{
			MediaTimeout: Duration(30 * time.Second),
			HoldTimeout:  Duration(4 * time.Hour),
			SetupTimeout: Duration(5 * time.Minute),
			MaxDuration:  Duration(4 * time.Hour),
			MaxCalls:     4000,
		},
		Limits:   DefaultLimits(),
		Log:      Log{Format: "text", Level: "info", Syslog: remotelog.Config{Transport: "udp", Facility: "daemon", AppName: "spanrec"}},
		Storage:  storage.Settings{FlushInterval: Duration(time.Second), BlockKB: 4, MinFreeMB: 256},
		Hardware: hal.Config{WatchdogTimeout: Duration(15 * time.Second), NoSIPAlarm: Duration(10 * time.Minute)},
		Quality:  quality.Config{PoorMOS: 3.1},
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("DefaultFor(noData) =\n%+v\nwant\n%+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if got := c.SocketPath(); got != filepath.Join("./var", "spanrec.sock") {
		t.Errorf("SocketPath = %q", got)
	}
	if d := DefaultFor(hasData).DataDir; d != "/data" {
		t.Errorf("DataDir with /data present = %q, want /data", d)
	}
	// The real probe: whatever this machine has, Default matches it.
	want2 := "./var"
	if fi, err := os.Stat("/data"); err == nil && fi.IsDir() {
		want2 = "/data"
	}
	if d := Default().DataDir; d != want2 {
		t.Errorf("Default().DataDir = %q, want %q", d, want2)
	}
	if c.Log.SlogLevel().String() != "INFO" {
		t.Errorf("SlogLevel = %v", c.Log.SlogLevel())
	}
	if c.NATAliases.Map() != nil || c.Capture.ExcludeAddrs() != nil {
		t.Errorf("default lists not empty")
	}
	if c.Capture.RingBytes() != 8<<20 {
		t.Errorf("RingBytes = %d", c.Capture.RingBytes())
	}
}

const fullFile = `# every key, none at its default
data_dir: /srv/spanrec
interfaces: [eth1, eth2]
capture:
  promiscuous: false
  ring_mb: 32
  snaplen: 2048
  exclude_hosts:
    - 192.0.2.50
    - 2001:db8::5
calls:
  media_timeout: 45s
  hold_timeout: 2h
  setup_timeout: 90s
  max_duration: 1h30m
  max_calls: 500
nat_aliases:
  - {sdp: 10.0.0.20, seen: 203.0.113.7}
  - sdp: 10.0.0.21
    seen: 203.0.113.8
log:
  format: json
  level: debug
control:
  socket: /run/spanrec.sock
  uid_roles: {1001: technician, 1002: auditor}
storage:
  flush_interval: 250ms
  block_kb: 64
quality:
  poor_mos: 3.6
`

func TestFullFile(t *testing.T) {
	c, err := Parse("full.yaml", []byte(fullFile), DefaultFor(noData))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		DataDir:    "/srv/spanrec",
		Interfaces: []string{"eth1", "eth2"},
		Capture:    capture.Settings{Promiscuous: false, RingMB: 32, SnapLen: 2048, ExcludeHosts: []string{"192.0.2.50", "2001:db8::5"}},
		Calls: calls.Settings{
			MediaTimeout: Duration(45 * time.Second),
			HoldTimeout:  Duration(2 * time.Hour),
			SetupTimeout: Duration(90 * time.Second),
			MaxDuration:  Duration(90 * time.Minute),
			MaxCalls:     500,
		},
		Limits:     DefaultLimits(),
		NATAliases: calls.NATAliases{{SDP: "10.0.0.20", Seen: "203.0.113.7"}, {SDP: "10.0.0.21", Seen: "203.0.113.8"}},
		Log:        Log{Format: "json", Level: "debug", Syslog: remotelog.Config{Transport: "udp", Facility: "daemon", AppName: "spanrec"}},
		Control:    Control{Socket: "/run/spanrec.sock", UIDRoles: map[uint32]users.Role{1001: users.Technician, 1002: users.Auditor}},
		Storage:    storage.Settings{FlushInterval: Duration(250 * time.Millisecond), BlockKB: 64, MinFreeMB: 256},
		Hardware:   hal.Config{WatchdogTimeout: Duration(15 * time.Second), NoSIPAlarm: Duration(10 * time.Minute)},
		Quality:    quality.Config{PoorMOS: 3.6},
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("Parse =\n%+v\nwant\n%+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.SocketPath() != "/run/spanrec.sock" {
		t.Errorf("SocketPath = %q", c.SocketPath())
	}
	am := c.NATAliases.Map()
	a := netip.MustParseAddr
	if got := am[a("10.0.0.20")]; len(got) != 1 || got[0] != a("203.0.113.7") {
		t.Errorf("alias 10.0.0.20 -> %v", got)
	}
	if got := am[a("203.0.113.8")]; len(got) != 1 || got[0] != a("10.0.0.21") {
		t.Errorf("alias 203.0.113.8 -> %v", got)
	}
	if got := c.Capture.ExcludeAddrs(); len(got) != 2 || got[1] != a("2001:db8::5") {
		t.Errorf("ExcludeAddrs = %v", got)
	}
	if c.Log.SlogLevel().String() != "DEBUG" {
		t.Errorf("SlogLevel = %v", c.Log.SlogLevel())
	}
}

func TestPartialFileKeepsDefaults(t *testing.T) {
	base := DefaultFor(noData)
	c, err := Parse("p.yaml", []byte("calls:\n  media_timeout: 10s\ncapture:\nlog:\n  level: warn\n"), base)
	if err != nil {
		t.Fatal(err)
	}
	want := base
	want.Calls.MediaTimeout = Duration(10 * time.Second)
	want.Log.Level = "warn"
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", c, want)
	}
	for _, empty := range []string{"", "# only a comment\n", "---\n", "~\n"} {
		c, err := Parse("e.yaml", []byte(empty), base)
		if err != nil {
			t.Fatalf("%q: %v", empty, err)
		}
		if !reflect.DeepEqual(c, base) {
			t.Errorf("%q: got %+v", empty, c)
		}
	}
}

func TestParseDoesNotTouchBase(t *testing.T) {
	base := DefaultFor(noData)
	base.Interfaces = []string{"eth0"}
	if _, err := Parse("x.yaml", []byte("interfaces: [eth9]\n"), base); err != nil {
		t.Fatal(err)
	}
	if base.Interfaces[0] != "eth0" {
		t.Fatalf("base changed: %v", base.Interfaces)
	}
}

func TestUnknownKeyHasLine(t *testing.T) {
	src := "data_dir: /x\ncapture:\n  ring_mb: 4\n  ring_mbs: 5\ncalls:\n  max_calls: 3\nlogging:\n  level: info\nnat_aliases:\n  - sdp: 10.0.0.1\n    seem: 1.2.3.4\n"
	_, err := Parse("conf.yaml", []byte(src), DefaultFor(noData))
	if !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("err = %v, want ErrUnknownKey", err)
	}
	ps := problems(t, err)
	want := []struct {
		line int
		key  string
	}{{4, "capture.ring_mbs"}, {7, "logging"}, {11, "nat_aliases[0].seem"}}
	if len(ps) != len(want) {
		t.Fatalf("%d problems, want %d: %v", len(ps), len(want), err)
	}
	for i, w := range want {
		p := ps[i]
		if p.File != "conf.yaml" || p.Line != w.line || p.Key != w.key || !errors.Is(p, ErrUnknownKey) {
			t.Errorf("problem %d = %+v, want line %d key %s", i, p, w.line, w.key)
		}
	}
	if msg := ps[0].Error(); !strings.HasPrefix(msg, "conf.yaml:4: capture.ring_mbs: unknown key") || !strings.Contains(msg, "ring_mb,") {
		t.Errorf("message = %q", msg)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		line      int
		key, msg  string
	}{
		{"not a number", "capture:\n  ring_mb: lots\n", 2, "capture.ring_mb", `want a whole number, got "lots"`},
		{"not a bool", "capture:\n  promiscuous: maybe\n", 2, "capture.promiscuous", "want true or false"},
		{"duration without unit", "calls:\n  hold_timeout: 30\n", 2, "calls.hold_timeout", `invalid duration "30"`},
		{"bad duration", "storage:\n  flush_interval: soon\n", 2, "storage.flush_interval", `invalid duration "soon"`},
		{"duration as mapping", "calls:\n  media_timeout: {a: 1}\n", 2, "calls.media_timeout", "want a duration"},
		{"list wanted", "interfaces: eth0\n", 1, "interfaces", "want a list"},
		{"section wanted", "capture: 5\n", 1, "capture", "want a mapping of keys"},
		{"syntax", "data_dir: /x\n capture: [\n", 2, "", "mapping values are not allowed"},
		{"duplicate key", "data_dir: /x\ndata_dir: /y\n", 2, "data_dir", "already defined"},
		{"top level list", "- a\n- b\n", 1, "", "want a mapping"},
		{"two documents", "data_dir: /x\n---\ndata_dir: /y\n", 0, "", "more than one YAML document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tc.src), DefaultFor(noData))
			if !errors.Is(err, ErrParse) {
				t.Fatalf("err = %v, want ErrParse", err)
			}
			ps := problems(t, err)
			if len(ps) != 1 {
				t.Fatalf("problems = %v", err)
			}
			p := ps[0]
			if (tc.line != 0 && p.Line != tc.line) || p.Key != tc.key || p.File != "f.yaml" || !strings.Contains(p.Msg, tc.msg) {
				t.Errorf("got %+v (%q), want line %d key %q msg ~%q", p, p.Error(), tc.line, tc.key, tc.msg)
			}
		})
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "spanrec.yaml")
	if err := os.WriteFile(path, []byte("data_dir: /srv/x\nlog:\n  levle: info\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+":3: log.levle: unknown key") {
		t.Fatalf("err = %v", err)
	}
	if err := os.WriteFile(path, []byte("data_dir: /srv/x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil || c.DataDir != "/srv/x" || c.Calls.MaxCalls != 4000 {
		t.Fatalf("Load = %+v, %v", c, err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestValidateErrors(t *testing.T) {
	long := "/" + strings.Repeat("d", 120)
	for _, tc := range []struct {
		name   string
		change func(c *Config)
		keys   []string
	}{
		{"empty data dir", func(c *Config) { c.DataDir = " " }, []string{"data_dir"}},
		{"syslog", func(c *Config) {
			c.Log.Syslog = remotelog.Config{Address: "logs.example", Transport: "tls", Facility: "local9", AppName: " "}
		}, []string{"log.syslog.address", "log.syslog.transport", "log.syslog.facility", "log.syslog.app_name"}},
		{"poor MOS above the scale", func(c *Config) { c.Quality.PoorMOS = 5 }, []string{"quality.poor_mos"}},
		{"poor MOS zero", func(c *Config) { c.Quality.PoorMOS = 0 }, []string{"quality.poor_mos"}},
		{"metrics on every interface", func(c *Config) { c.Metrics.Listen = ":9273" }, []string{"metrics.listen"}},
		{"metrics on 0.0.0.0", func(c *Config) { c.Metrics.Listen = "0.0.0.0:9273" }, []string{"metrics.listen"}},
		{"metrics by name", func(c *Config) { c.Metrics.Listen = "localhost:9273" }, []string{"metrics.listen"}},
		{"metrics port", func(c *Config) { c.Metrics.Listen = "127.0.0.1:0" }, []string{"metrics.listen"}},
		{"metrics on the SPAN port", func(c *Config) {
			c.Interfaces = []string{"eth1"}
			c.Metrics = metrics.Config{Listen: ":9273", Interface: "eth1"}
		}, []string{"metrics.interface"}},
		{"empty interface", func(c *Config) { c.Interfaces = []string{"eth0", ""} }, []string{"interfaces[1]"}},
		{"long interface", func(c *Config) { c.Interfaces = []string{"averyveryverylongname0"} }, []string{"interfaces[0]"}},
		{"bad interface", func(c *Config) { c.Interfaces = []string{"eth 0", "../x", "eth0:1"} }, []string{"interfaces[0]", "interfaces[1]", "interfaces[2]"}},
		{"duplicate interface", func(c *Config) { c.Interfaces = []string{"eth1", "eth1"} }, []string{"interfaces[1]"}},
		{"ring", func(c *Config) { c.Capture.RingMB = 0 }, []string{"capture.ring_mb"}},
		{"ring too big", func(c *Config) { c.Capture.RingMB = 4096 }, []string{"capture.ring_mb"}},
		{"snaplen", func(c *Config) { c.Capture.SnapLen = 64 }, []string{"capture.snaplen"}},
		{"snaplen too big", func(c *Config) { c.Capture.SnapLen = 1 << 20 }, []string{"capture.snaplen"}},
		{"exclude host", func(c *Config) {
			c.Capture.ExcludeHosts = []string{"10.0.0.1", "host.example", "10.0.0.0/8", "0.0.0.0", "fe80::1%eth0"}
		},
			[]string{"capture.exclude_hosts[1]", "capture.exclude_hosts[2]", "capture.exclude_hosts[3]", "capture.exclude_hosts[4]"}},
		{"negative durations", func(c *Config) {
			c.Calls.MediaTimeout = Duration(-time.Second)
			c.Calls.HoldTimeout = Duration(-time.Hour)
			c.Calls.SetupTimeout = Duration(-time.Minute)
			c.Calls.MaxDuration = Duration(-time.Hour)
			c.Storage.FlushInterval = Duration(-time.Second)
		}, []string{"calls.media_timeout", "calls.hold_timeout", "calls.setup_timeout", "calls.max_duration", "storage.flush_interval"}},
		{"zero timeouts", func(c *Config) {
			c.Calls.MediaTimeout = 0
			c.Storage.FlushInterval = 0
		}, []string{"calls.media_timeout", "storage.flush_interval"}},
		{"tiny max duration", func(c *Config) { c.Calls.MaxDuration = Duration(time.Second) }, []string{"calls.max_duration"}},
		{"max calls", func(c *Config) { c.Calls.MaxCalls = -1 }, []string{"calls.max_calls"}},
		{"limits", func(c *Config) {
			c.Limits.OpenFiles = 10
			c.Limits.SDPFormats = 0
			c.Limits.TCPStreamKB = 8 << 10
			c.Limits.TCPMB = 4
		}, []string{"limits.open_files", "limits.sdp_formats", "limits.tcp_stream_kb"}},
		{"nat alias", func(c *Config) {
			c.NATAliases = calls.NATAliases{{SDP: "10.0.0.1", Seen: "nat"}, {SDP: "", Seen: "1.2.3.4"}, {SDP: "1.2.3.4", Seen: "::ffff:1.2.3.4"}}
		}, []string{"nat_aliases[0].seen", "nat_aliases[1].sdp", "nat_aliases[2]"}},
		{"log format", func(c *Config) { c.Log.Format = "xml" }, []string{"log.format"}},
		{"log level", func(c *Config) { c.Log.Level = "verbose" }, []string{"log.level"}},
		{"socket too long", func(c *Config) { c.DataDir = long }, []string{"control.socket"}},
		{"socket is a dir", func(c *Config) { c.Control.Socket = "/run/" }, []string{"control.socket"}},
		{"uid roles", func(c *Config) {
			c.Control.UIDRoles = map[uint32]users.Role{0: users.Technician, 1001: "root", 1002: users.Auditor}
		}, []string{"control.uid_roles.0", "control.uid_roles.1001"}},
		{"block", func(c *Config) { c.Storage.BlockKB = 6 }, []string{"storage.block_kb"}},
		{"block zero", func(c *Config) { c.Storage.BlockKB = 0 }, []string{"storage.block_kb"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultFor(noData)
			tc.change(&c)
			err := c.Validate()
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
			ps := problems(t, err)
			var keys []string
			for _, p := range ps {
				keys = append(keys, p.Key)
				if !strings.HasPrefix(p.Error(), p.Key+": ") {
					t.Errorf("message %q does not start with its key", p.Error())
				}
			}
			if !reflect.DeepEqual(keys, tc.keys) {
				t.Errorf("keys = %v, want %v (%v)", keys, tc.keys, err)
			}
		})
	}
}

func TestValidateReportsEverything(t *testing.T) {
	c := DefaultFor(noData)
	c.Capture.RingMB = -1
	c.Log.Level = "x"
	c.Log.Format = "y"
	c.Calls.MediaTimeout = -1
	if n := len(problems(t, c.Validate())); n != 4 {
		t.Fatalf("%d problems, want 4: %v", n, c.Validate())
	}
	c = DefaultFor(noData)
	c.Calls.MaxDuration = 0 // never split: valid
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestOverrides(t *testing.T) {
	c, err := Parse("f.yaml", []byte(fullFile), DefaultFor(noData))
	if err != nil {
		t.Fatal(err)
	}
	before := c
	c.Apply(Overrides{}) // nothing set: nothing changes
	if !reflect.DeepEqual(c, before) {
		t.Fatalf("empty Overrides changed the config")
	}
	off := true
	o := Overrides{
		DataDir:      "/mnt/rec",
		Interfaces:   []string{"eth7"},
		LogFormat:    "text",
		LogLevel:     "error",
		Socket:       "/tmp/s.sock",
		Promiscuous:  &off,
		ExcludeHosts: []string{},
		NATAliases:   calls.NATAliases{{SDP: "10.1.1.1", Seen: "198.51.100.1"}},
		MediaTimeout: time.Minute,
	}
	c.Apply(o)
	o.Interfaces[0] = "changed-after" // Apply copies
	want := before
	want.DataDir = "/mnt/rec"
	want.Interfaces = []string{"eth7"}
	want.Log = Log{Format: "text", Level: "error", Syslog: remotelog.Config{Transport: "udp", Facility: "daemon", AppName: "spanrec"}}
	want.Control.Socket = "/tmp/s.sock"
	want.Capture.Promiscuous = true
	want.Capture.ExcludeHosts = nil // an empty, set list clears the file's
	want.NATAliases = calls.NATAliases{{SDP: "10.1.1.1", Seen: "198.51.100.1"}}
	want.Calls.MediaTimeout = Duration(time.Minute)
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("after Apply\n%+v\nwant\n%+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}

	// The derived socket follows a data directory given by flag.
	d := DefaultFor(noData)
	d.Apply(Overrides{DataDir: "/mnt/other"})
	if d.SocketPath() != "/mnt/other/spanrec.sock" {
		t.Errorf("SocketPath = %q", d.SocketPath())
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	full, err := Parse("f.yaml", []byte(fullFile), DefaultFor(noData))
	if err != nil {
		t.Fatal(err)
	}
	noSplit := DefaultFor(hasData)
	noSplit.Calls.MaxDuration = 0
	odd := DefaultFor(noData)
	odd.Calls.MediaTimeout = Duration(1500 * time.Millisecond)
	odd.Calls.HoldTimeout = Duration(time.Hour + 10*time.Minute)
	odd.Interfaces = []string{"yes", "no", "0"} // strings YAML would read as bools/numbers
	odd.DataDir = "~"
	for name, c := range map[string]Config{"defaults": DefaultFor(noData), "full": full, "no split": noSplit, "odd": odd} {
		t.Run(name, func(t *testing.T) {
			b, err := c.YAML()
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse("printed.yaml", b, Config{}) // nothing from base
			if err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			if !reflect.DeepEqual(back, c) {
				t.Fatalf("round trip changed the config:\n%s\ngot  %+v\nwant %+v", b, back, c)
			}
		})
	}
	b, _ := DefaultFor(hasData).YAML()
	for _, want := range []string{"media_timeout: 30s\n", "hold_timeout: 4h\n", "# empty: DATA_DIR/spanrec.sock = /data/spanrec.sock", "# empty: the first non-loopback interface"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("YAML() lacks %q:\n%s", want, b)
		}
	}
}

func TestDurationString(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 30 * time.Second: "30s", 5 * time.Minute: "5m", 4 * time.Hour: "4h",
		90 * time.Minute: "1h30m", 70 * time.Minute: "1h10m", 10 * time.Minute: "10m",
		time.Hour + time.Second: "1h0m1s", 250 * time.Millisecond: "250ms",
	} {
		if got := Duration(d).String(); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
		if back, err := time.ParseDuration(Duration(d).String()); err != nil || back != d {
			t.Errorf("%q parses as %v, %v", Duration(d).String(), back, err)
		}
	}
}

func TestBoardExample(t *testing.T) {
	path := filepath.Join("..", "..", "board", "config", "spanrec.yaml")
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	// The example documents the defaults: apart from the example values it
	// sets (interfaces, exclude_hosts, nat_aliases), it is Default().
	want := DefaultFor(hasData)
	want.Interfaces = c.Interfaces
	want.Capture.ExcludeHosts = c.Capture.ExcludeHosts
	want.NATAliases = c.NATAliases
	want.PBX, want.Recording = c.PBX, c.Recording
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("example differs from the defaults:\n%+v\n%+v", c, want)
	}
	if len(c.Interfaces) == 0 || len(c.Capture.ExcludeHosts) == 0 || len(c.NATAliases) == 0 {
		t.Errorf("example lost its sample lists: %+v", c)
	}
}

func TestUnknownKeyThroughMergeAndAlias(t *testing.T) {
	src := "calls: &c {max_calls: 3}\nstorage:\n  <<: *c\n  block_kb: 8\n"
	_, err := Parse("m.yaml", []byte(src), DefaultFor(noData))
	ps := problems(t, err)
	if len(ps) != 1 || !errors.Is(ps[0], ErrUnknownKey) || ps[0].Line != 1 || ps[0].Key != "storage.max_calls" {
		t.Fatalf("merge of an unknown key: %v", err)
	}
	// A valid merge works.
	c, err := Parse("m.yaml", []byte("calls: &c {max_calls: 3}\nx: &l {format: json}\n"), DefaultFor(noData))
	if err == nil {
		t.Fatalf("top-level x accepted: %+v", c)
	}
	c, err = Parse("m.yaml", []byte("log: &l {format: json}\ncapture:\n  ring_mb: 2\n"), DefaultFor(noData))
	if err != nil || c.Log.Format != "json" || c.Capture.RingMB != 2 {
		t.Fatalf("anchor: %+v %v", c, err)
	}
}

// TestOffloadS3 parses an s3 offload section into the offload package's
// configuration; a bad value is a Validate problem of the offload key (so
// `config check` finds it), an unknown key a parse error.
func TestOffloadS3(t *testing.T) {
	dir := t.TempDir()
	cred := filepath.Join(dir, "s3.cred")
	if err := os.WriteFile(cred, []byte("access_key=a\nsecret_key=b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := "offload:\n  kind: s3\n  endpoint: https://s3.example.com\n  bucket: call-archive\n  prefix: site-1\n" +
		"  credentials_file: " + cred + "\n  retention_days: 30\n  retention_mode: COMPLIANCE\n  part_size_mb: 8\n"
	c, err := Parse("s3.yaml", []byte(src), DefaultFor(noData))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	o := c.Offload
	if o.Kind != "s3" || o.Bucket != "call-archive" || o.Prefix != "site-1" || o.RetentionDays != 30 ||
		o.RetentionMode != "COMPLIANCE" || o.PartSizeMB != 8 || o.Endpoint != "https://s3.example.com" {
		t.Fatalf("target: %+v", o)
	}
	c, err = Parse("s3.yaml", []byte(strings.Replace(src, "call-archive", "Call_Archive", 1)), DefaultFor(noData))
	if err != nil {
		t.Fatal(err)
	}
	ps := problems(t, c.Validate())
	if len(ps) != 1 || ps[0].Key != "offload.bucket" || !strings.Contains(ps[0].Msg, "Call_Archive") {
		t.Fatalf("bad bucket: %v", ps)
	}
	if _, err := Parse("s3.yaml", []byte(src+"  bukket: x\n"), DefaultFor(noData)); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestValidMetricsAndSyslog(t *testing.T) {
	for _, change := range []func(c *Config){
		func(c *Config) { c.Metrics.Listen = "127.0.0.1:9273" },
		func(c *Config) { c.Metrics.Listen = "[::1]:9273" },
		func(c *Config) {
			c.Interfaces = []string{"eth1"}
			c.Metrics = metrics.Config{Listen: ":9273", Interface: "eth0"}
		},
		func(c *Config) {
			c.Log.Syslog = remotelog.Config{Address: "logs.example:6514", Transport: "tcp", Facility: "local4", AppName: "rec-7"}
		},
	} {
		c := DefaultFor(hasData)
		change(&c)
		if err := c.Validate(); err != nil {
			t.Errorf("%+v %+v: %v", c.Metrics, c.Log.Syslog, err)
		}
	}
}
