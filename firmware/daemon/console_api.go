package daemon

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"spanrec/firmware/config"
	"spanrec/firmware/control"
	"spanrec/firmware/datadir"
	"spanrec/firmware/index"
	"spanrec/firmware/keys"
	"spanrec/firmware/offload"
	"spanrec/firmware/recorder"
	"spanrec/firmware/users"
	"spanrec/firmware/web"
	"spanrec/media/sign"
)

// rebootTimeout bounds the reboot command.
const rebootTimeout = 30 * time.Second

// ConsoleOptions configure the serial console's side of the control API
// (control.ConsoleDaemon). Every facility left nil answers "not
// configured".
type ConsoleOptions struct {
	// ConfigFile is the configuration file `config set` rewrites ("": the
	// daemon runs on defaults and flags, and `config set` is refused).
	ConfigFile string
	// LoadConfig returns the effective configuration (the file with the
	// flags applied, validated) for `config show`.
	LoadConfig func() (config.Config, error)
	// UsersFile is the accounts file; "" means DATA/users.json.
	UsersFile string
	// Users tunes the accounts (bcrypt cost, clock).
	Users users.Options
	// LogTail gives the last log lines (a LogRing).
	LogTail LogTailer
	// RebootCommand reboots the appliance; nil means {"reboot"}.
	RebootCommand []string
	// LEDTest runs the LED self-test (ledstate.SelfTest on the board's
	// LEDs).
	LEDTest func(ctx context.Context) error
	// Offloader is the offload scheduler (*offload.Offloader).
	Offloader Offloader
	// Deleter deletes recordings at an admin's request (the daemon's
	// *storage.Manager); nil refuses deletion.
	Deleter RecordingDeleter
}

// RecordingDeleter is what the console needs of storage to delete a
// recording: storage.Manager.AdminDelete.
type RecordingDeleter interface {
	AdminDelete(id, admin string, now time.Time) error
}

// LogTailer keeps the daemon's last log lines.
type LogTailer interface {
	// Tail returns the last n lines, oldest first.
	Tail(n int) []string
}

// Offloader is what the console needs of the offload scheduler.
type Offloader interface {
	// Trigger asks for a run now.
	Trigger()
	// Status returns the scheduler's state.
	Status() offload.Status
	// Config returns its configuration (String redacts secrets).
	Config() offload.Config
}

// BackendConfig is what a ConsoleBackend works on.
type BackendConfig struct {
	ConsoleOptions
	// DataDir is the data directory (keys, recordings, users.json).
	DataDir string
	// Index is the open index (shared with the recorder: bbolt
	// serialises).
	Index *index.Index
	// Started is when the daemon started.
	Started time.Time
	// Clock, if set, returns the clock's synchronisation state.
	Clock func() *control.ClockState
	// Reload applies the configuration file again (the daemon's SIGHUP
	// path); nil means the running daemon cannot reload.
	Reload func() error
	// Log is the daemon's log.
	Log *slog.Logger
}

// ConsoleBackend implements the console's methods of
// control.ConsoleDaemon over a data directory: recordings from the index,
// verification, the configuration file, storage, accounts, the audit log
// and the appliance's facilities. Its methods are safe for concurrent use.
// It does not touch call state (that is the capture loop's).
type ConsoleBackend struct {
	cfg      BackendConfig
	log      *slog.Logger
	users    *users.Store
	usersErr error
	cfgMu    sync.Mutex // one `config set` at a time
}

// NewConsoleBackend returns a backend over cfg. A users file that cannot
// be read is logged and makes every login fail (it never opens the
// console without a login).
func NewConsoleBackend(cfg BackendConfig) *ConsoleBackend {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.UsersFile == "" {
		cfg.UsersFile = datadir.Layout(cfg.DataDir).Users()
	}
	b := &ConsoleBackend{cfg: cfg, log: log}
	b.users, b.usersErr = users.Open(cfg.UsersFile, cfg.Users)
	if b.usersErr != nil {
		log.Error("console accounts unreadable: every console login fails until the file is fixed or removed", "err", b.usersErr)
	}
	return b
}

// consoleAPI joins d's call control with a backend: the control server's
// daemon. Run passes d.consoleAPI(opts.Console) to control.Serve, after
// startAppliance (the LED test and the offloader default to the
// appliance's).
func (d *Daemon) consoleAPI(opts ConsoleOptions) consoleDaemon {
	if opts.LEDTest == nil {
		opts.LEDTest = d.LEDTest
	}
	if opts.Offloader == nil && d.app != nil && d.app.offload != nil {
		opts.Offloader = d.app.offload
	}
	if opts.Deleter == nil && d.app != nil && d.app.storage != nil {
		opts.Deleter = d.app.storage
	}
	b := NewConsoleBackend(BackendConfig{
		ConsoleOptions: opts,
		DataDir:        d.opts.Engine.DataDir,
		Index:          d.e.Index,
		Started:        d.started,
		Clock: func() *control.ClockState {
			var c *control.ClockState
			if d.do(func() { c = statusClock(d.app.clock) }) != nil {
				return nil
			}
			return c
		},
		Reload: func() error { return d.do(d.reload) },
		Log:    d.log,
	})
	return consoleDaemon{Daemon: d, ConsoleBackend: b}
}

// ConsoleAPI joins a Daemon (status, calls, pause, resume) with a backend
// into a control.ConsoleDaemon, which serves the web UI too.
func ConsoleAPI(d control.Daemon, b *ConsoleBackend) web.Daemon {
	return consoleDaemon{Daemon: d, ConsoleBackend: b}
}

type consoleDaemon struct {
	control.Daemon
	*ConsoleBackend
}

// Recordings implements control.ConsoleDaemon: the newest q.Limit matches.
func (b *ConsoleBackend) Recordings(q control.RecordingQuery) ([]index.Call, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = control.DefaultRecordingsLimit
	}
	ring := make([]index.Call, 0, min(limit, 1024))
	next := 0
	err := b.cfg.Index.List(func(c *index.Call) error {
		if (!q.All && !c.Recorded) || !q.Matches(c) {
			return nil
		}
		if len(ring) < limit {
			ring = append(ring, *c)
		} else {
			ring[next] = *c
		}
		next = (next + 1) % limit
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]index.Call, 0, len(ring))
	for i := range ring { // newest first
		out = append(out, ring[(next-1-i+2*len(ring))%len(ring)])
	}
	return out, nil
}

// Recording implements control.ConsoleDaemon.
func (b *ConsoleBackend) Recording(id string) (index.Call, error) {
	c, err := b.cfg.Index.Get(id)
	if err != nil {
		return index.Call{}, err
	}
	return *c, nil
}

// Verify implements control.ConsoleDaemon. One recording: its chain entry
// (present, hash intact, same file and SHA-256 as the index), the file's
// SHA-256 and its signature. "all": every recording, the whole hash chain
// and the audit log's links.
func (b *ConsoleBackend) Verify(ctx context.Context, id string) (control.Verification, error) {
	pub, err := keys.LoadPublic(datadir.Layout(b.cfg.DataDir).PublicKey())
	if err != nil {
		return control.Verification{}, fmt.Errorf("public key: %w", err)
	}
	v := control.Verification{ID: id, Key: keys.Fingerprint(pub)}
	if id == control.AllCalls {
		problems, err := b.cfg.Index.VerifyChainContext(ctx, b.cfg.DataDir, func(path string) error {
			v.Checked++
			return sign.VerifyFile(path, pub)
		})
		if err != nil {
			return v, err
		}
		for _, p := range problems {
			v.Problems = append(v.Problems, p.String())
		}
		ap, err := b.cfg.Index.VerifyAudit()
		if err != nil {
			return v, err
		}
		for _, p := range ap {
			v.Problems = append(v.Problems, "audit log: "+p)
		}
		v.Valid = len(v.Problems) == 0
		return v, nil
	}
	c, err := b.cfg.Index.Get(id)
	if err != nil {
		return v, err
	}
	switch {
	case !c.Recorded && c.End.IsZero():
		return v, fmt.Errorf("%w: %s is still being recorded: verify it once the call has ended", control.ErrBadRequest, id)
	case !c.Recorded:
		return v, fmt.Errorf("%w: %s was not recorded (%s): nothing to verify", control.ErrBadRequest, id, c.Reason)
	}
	var entry *index.ChainEntry
	err = b.cfg.Index.Chain(func(e *index.ChainEntry) error {
		if e.ID == id {
			entry = e
			return errStopWalk
		}
		return ctx.Err()
	})
	if err != nil && !errors.Is(err, errStopWalk) {
		return v, err
	}
	bad := func(format string, a ...any) { v.Problems = append(v.Problems, fmt.Sprintf(format, a...)) }
	switch {
	case entry == nil:
		bad("not in chain: the recording has no hash chain entry")
	case entry.ComputeHash(entry.Prev) != entry.Hash:
		bad("chain entry modified: seq %d does not match its hash", entry.Seq)
	case entry.File != c.File || entry.SHA256 != c.SHA256:
		bad("index differs from chain: index has %s %s, chain seq %d has %s %s", c.File, c.SHA256, entry.Seq, entry.File, entry.SHA256)
	}
	if !filepath.IsLocal(filepath.FromSlash(c.File)) || strings.ContainsAny(c.File, "\\\x00") {
		bad("unsafe path: %q leaves the data directory", c.File)
		return v, nil
	}
	path := datadir.Layout(b.cfg.DataDir).Abs(c.File)
	v.Checked = 1
	sum, _, err := sign.FileSHA256(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		bad("missing: %s does not exist", c.File)
		return v, nil
	case err != nil:
		bad("unreadable: %v", err)
		return v, nil
	}
	if got := hex.EncodeToString(sum[:]); got != c.SHA256 {
		bad("hash mismatch: file sha256 %s, index has %s", got, c.SHA256)
	}
	if err := sign.VerifyFile(path, pub); err != nil {
		bad("signature: %v", err)
	}
	v.Valid = len(v.Problems) == 0
	return v, nil
}

// errStopWalk ends an index walk early.
var errStopWalk = errors.New("stop")

// Config implements control.ConsoleDaemon.
func (b *ConsoleBackend) Config() (control.ConfigInfo, error) {
	if b.cfg.LoadConfig == nil {
		return control.ConfigInfo{}, fmt.Errorf("configuration: %w", control.ErrNotConfigured)
	}
	c, err := b.cfg.LoadConfig()
	if err != nil {
		return control.ConfigInfo{}, err
	}
	y, err := c.YAML()
	if err != nil {
		return control.ConfigInfo{}, err
	}
	return control.ConfigInfo{File: b.cfg.ConfigFile, YAML: string(y)}, nil
}

// reloadable reports whether the running daemon applies key on reload
// (see Daemon.reload); other keys take effect at the next start.
func reloadable(key string) bool {
	return key == "interfaces" || key == "nat_aliases" || strings.HasPrefix(key, "calls.") || key == "calls"
}

// SetConfig implements control.ConsoleDaemon: the file with key set to
// value (YAML) is parsed and validated, then written atomically, then the
// daemon reloads it.
func (b *ConsoleBackend) SetConfig(key, value string) (control.ConfigChange, error) {
	ch := control.ConfigChange{File: b.cfg.ConfigFile, Key: key, Value: value}
	if b.cfg.ConfigFile == "" {
		return ch, fmt.Errorf("%w: the daemon runs without a configuration file (start it with --config FILE)", control.ErrNotConfigured)
	}
	b.cfgMu.Lock()
	defer b.cfgMu.Unlock()
	old, err := os.ReadFile(b.cfg.ConfigFile)
	if err != nil {
		return ch, fmt.Errorf("configuration file: %w", err)
	}
	next, err := SetYAMLKey(old, key, value)
	if err != nil {
		return ch, err
	}
	cfg, err := config.Parse(b.cfg.ConfigFile, next, config.Default())
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return ch, rejected{err}
	}
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(b.cfg.ConfigFile); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := datadir.WriteFile(b.cfg.ConfigFile, next, mode); err != nil {
		return ch, fmt.Errorf("write configuration file: %w", err)
	}
	ch.Restart = !reloadable(key)
	if b.cfg.Reload != nil && !ch.Restart {
		if err := b.cfg.Reload(); err != nil {
			return ch, fmt.Errorf("saved, but the reload failed: %w", err)
		}
		ch.Applied = true
	}
	b.log.Info("configuration changed", "file", b.cfg.ConfigFile, "key", key, "applied", ch.Applied)
	return ch, nil
}

// rejected is a configuration change that failed validation: a bad
// request, with the validator's message.
type rejected struct{ err error }

func (r rejected) Error() string   { return r.err.Error() + " (nothing saved)" }
func (r rejected) Unwrap() []error { return []error{control.ErrBadRequest, r.err} }

// SetYAMLKey returns the YAML document data with the dotted key (e.g.
// "calls.media_timeout") set to value, itself YAML ("45s", "[eth1,
// eth2]"). Missing sections are created; comments elsewhere are kept.
// Errors match control.ErrBadRequest.
func SetYAMLKey(data []byte, key, value string) ([]byte, error) {
	parts := strings.Split(key, ".")
	for _, p := range parts {
		if p == "" {
			return nil, fmt.Errorf("%w: bad key %q (use section.key, e.g. calls.media_timeout)", control.ErrBadRequest, key)
		}
	}
	if strings.TrimSpace(value) == "" {
		return nil, fmt.Errorf("%w: empty value for %s", control.ErrBadRequest, key)
	}
	var val yaml.Node
	if err := yaml.Unmarshal([]byte(value), &val); err != nil || len(val.Content) != 1 {
		return nil, fmt.Errorf("%w: value %q is not a YAML value", control.ErrBadRequest, value)
	}
	vn := val.Content[0]
	if hasAlias(vn) {
		return nil, fmt.Errorf("%w: value %q uses YAML aliases", control.ErrBadRequest, value)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: the configuration file is not valid YAML: %w", control.ErrBadRequest, err)
	}
	if doc.Kind == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode}
	}
	if len(doc.Content) == 0 || (doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].ShortTag() == "!!null") {
		doc.Content = []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}
	}
	node := doc.Content[0]
	for i, p := range parts {
		if node.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%w: %s is not a section", control.ErrBadRequest, strings.Join(parts[:i], "."))
		}
		last := i == len(parts)-1
		j := -1
		for k := 0; k+1 < len(node.Content); k += 2 {
			if node.Content[k].Value == p {
				j = k
			}
		}
		if j < 0 {
			child := vn
			if !last {
				child = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			}
			node.Content = append(node.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: p}, child)
			node = child
			continue
		}
		if last {
			vn.LineComment = node.Content[j+1].LineComment
			node.Content[j+1] = vn
			break
		}
		child := node.Content[j+1]
		if child.Kind == yaml.ScalarNode && child.ShortTag() == "!!null" {
			child = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			node.Content[j+1] = child
		}
		node = child
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %w", control.ErrBadRequest, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("%w: %w", control.ErrBadRequest, err)
	}
	return out.Bytes(), nil
}

func hasAlias(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return true
	}
	for _, c := range n.Content {
		if hasAlias(c) {
			return true
		}
	}
	return false
}

// Storage implements control.ConsoleDaemon.
func (b *ConsoleBackend) Storage() (control.StorageInfo, error) {
	s := control.StorageInfo{Storage: control.Storage{Path: b.cfg.DataDir}}
	s.FreeBytes, s.TotalBytes = datadir.Space(b.cfg.DataDir)
	err := b.cfg.Index.List(func(c *index.Call) error {
		s.Calls++
		switch {
		case !c.Recorded:
		case c.Raw():
			s.RawMedia++
			if c.RawOf == "" {
				s.RawOnly++
			}
			s.RecordingBytes += c.Size
		default:
			s.Recordings++
			s.RecordingBytes += c.Size
		}
		return nil
	})
	return s, err
}

// LogTail implements control.ConsoleDaemon.
func (b *ConsoleBackend) LogTail(n int) ([]string, error) {
	if b.cfg.LogTail == nil {
		return nil, fmt.Errorf("log tail: %w (no log ring)", control.ErrNotConfigured)
	}
	return b.cfg.LogTail.Tail(n), nil
}

// LEDTest implements control.ConsoleDaemon.
func (b *ConsoleBackend) LEDTest(ctx context.Context) error {
	if b.cfg.LEDTest == nil {
		return fmt.Errorf("LED test: %w (no LEDs on this board)", control.ErrNotConfigured)
	}
	return b.cfg.LEDTest(ctx)
}

// Time implements control.ConsoleDaemon.
func (b *ConsoleBackend) Time() control.TimeInfo {
	now := time.Now()
	name, off := now.Zone()
	ti := control.TimeInfo{Now: now, Zone: fmt.Sprintf("%s (UTC%+03d:%02d)", name, off/3600, zoneMinutes(off)), Started: b.cfg.Started}
	if b.cfg.Clock != nil {
		ti.Clock = b.cfg.Clock()
	}
	return ti
}

func zoneMinutes(off int) int {
	n := off / 60 % 60
	if n < 0 {
		return -n
	}
	return n
}

// Reboot implements control.ConsoleDaemon: it runs the reboot command.
func (b *ConsoleBackend) Reboot() error {
	argv := b.cfg.RebootCommand
	if len(argv) == 0 {
		argv = []string{"reboot"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), rebootTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("reboot: %s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	b.log.Warn("reboot requested from the console", "command", argv)
	return nil
}

// DeleteRecording implements control.ConsoleDaemon. A recording still
// being written is refused: it ends with its call.
func (b *ConsoleBackend) DeleteRecording(id, by string) error {
	if b.cfg.Deleter == nil {
		return fmt.Errorf("deleting recordings %w", control.ErrNotConfigured)
	}
	c, err := b.cfg.Index.Get(id)
	if err != nil {
		return err
	}
	switch {
	case !c.Deleted.IsZero():
		return fmt.Errorf("recording %s: %w: already deleted (%s)", id, control.ErrConflict, c.DeleteReason)
	case c.EndReason == recorder.InProgress:
		return fmt.Errorf("recording %s: %w: still being recorded", id, control.ErrConflict)
	case !c.Recorded || c.File == "":
		return fmt.Errorf("recording %s: %w: the call has no recording file", id, control.ErrConflict)
	}
	if err := b.cfg.Deleter.AdminDelete(id, by, time.Now()); err != nil {
		return err
	}
	b.log.Warn("recording deleted by an admin", "id", id, "by", by)
	return nil
}

// OffloadNow implements control.ConsoleDaemon.
func (b *ConsoleBackend) OffloadNow() error {
	if b.cfg.Offloader == nil {
		return fmt.Errorf("offload %w", control.ErrNotConfigured)
	}
	b.cfg.Offloader.Trigger()
	return nil
}

// OffloadStatus implements control.ConsoleDaemon.
func (b *ConsoleBackend) OffloadStatus() (control.OffloadStatus, error) {
	if b.cfg.Offloader == nil {
		return control.OffloadStatus{}, fmt.Errorf("offload %w", control.ErrNotConfigured)
	}
	s := b.cfg.Offloader.Status()
	lock := ""
	switch {
	case s.Lock != nil:
		lock = s.Lock.String()
	case b.cfg.Offloader.Config().Kind == offload.KindS3:
		lock = "object lock: not known yet (no run has reached the bucket)"
	}
	return control.OffloadStatus{
		ObjectLock:          lock,
		Target:              b.cfg.Offloader.Config().String(),
		Running:             s.Running,
		LastRun:             s.LastRun,
		LastSuccess:         s.LastSuccess,
		LastError:           s.LastError,
		LastCopied:          s.LastReport.Copied,
		LastFailed:          s.LastReport.Failed,
		Pending:             s.Pending,
		BytesPerSec:         s.BytesPerSec,
		NextRun:             s.NextRun,
		ConsecutiveFailures: s.ConsecutiveFailures,
	}, nil
}

// LoginRequired implements control.ConsoleDaemon: accounts exist, or the
// users file cannot be read (fail closed).
func (b *ConsoleBackend) LoginRequired() (bool, error) {
	if b.usersErr != nil {
		return true, nil
	}
	return b.users.Len() > 0, nil
}

func (b *ConsoleBackend) store() (*users.Store, error) {
	if b.usersErr != nil {
		return nil, b.usersErr
	}
	return b.users, nil
}

// Login implements control.ConsoleDaemon.
func (b *ConsoleBackend) Login(name, password string) (users.User, error) {
	s, err := b.store()
	if err != nil {
		return users.User{}, err
	}
	return s.Authenticate(name, password)
}

// Account implements control.ConsoleDaemon.
func (b *ConsoleBackend) Account(name string) (users.User, error) {
	s, err := b.store()
	if err != nil {
		return users.User{}, err
	}
	return s.Get(name)
}

// Users implements control.ConsoleDaemon.
func (b *ConsoleBackend) Users() ([]users.User, error) {
	s, err := b.store()
	if err != nil {
		return nil, err
	}
	return s.List(), nil
}

// AddUser implements control.ConsoleDaemon.
func (b *ConsoleBackend) AddUser(name string, role users.Role, password string) error {
	s, err := b.store()
	if err != nil {
		return err
	}
	return s.Add(name, role, password)
}

// RemoveUser implements control.ConsoleDaemon.
func (b *ConsoleBackend) RemoveUser(name string) error {
	s, err := b.store()
	if err != nil {
		return err
	}
	return s.Remove(name)
}

// SetPassword implements control.ConsoleDaemon.
func (b *ConsoleBackend) SetPassword(name, password string) error {
	s, err := b.store()
	if err != nil {
		return err
	}
	return s.SetPassword(name, password)
}

// SetRole implements control.ConsoleDaemon.
func (b *ConsoleBackend) SetRole(name string, role users.Role) error {
	s, err := b.store()
	if err != nil {
		return err
	}
	return s.SetRole(name, role)
}

// Unlock implements control.ConsoleDaemon.
func (b *ConsoleBackend) Unlock(name string) error {
	s, err := b.store()
	if err != nil {
		return err
	}
	return s.Unlock(name)
}

// AppendAudit implements control.ConsoleDaemon.
func (b *ConsoleBackend) AppendAudit(e index.AuditEntry) error {
	_, err := b.cfg.Index.AppendAudit(e)
	return err
}

// Audit implements control.ConsoleDaemon.
func (b *ConsoleBackend) Audit(n int) ([]index.AuditEntry, error) {
	return b.cfg.Index.AuditTail(n)
}

// OpenRecording opens a recording's file (its index entry's File, inside
// the data directory only) for the web UI's playback and download;
// control.ErrNotFound when the entry has no file or it was deleted.
func (b *ConsoleBackend) OpenRecording(id string) (*os.File, error) {
	c, err := b.cfg.Index.Get(id)
	if err != nil {
		return nil, err
	}
	if c.File == "" || !c.Deleted.IsZero() {
		return nil, fmt.Errorf("%w: recording %s has no file", control.ErrNotFound, id)
	}
	f, err := os.OpenInRoot(b.cfg.DataDir, filepath.FromSlash(c.File))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %v", control.ErrNotFound, err)
	}
	return f, err
}
