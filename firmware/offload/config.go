package offload

import (
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strconv"
	"strings"
	"time"

	"spanrec/firmware/config/setting"
)

// Target kinds accepted in Config.Kind.
const (
	// KindDir is a mounted directory (NFS, CIFS, USB disk...).
	KindDir = "dir"
	// KindSFTP is an SSH server's SFTP subsystem.
	KindSFTP = "sftp"
	// KindSMB is an SMB 2/3 share (Windows, Samba, NAS).
	KindSMB = "smb"
	// KindS3 is a bucket on an S3-compatible object store (AWS S3, Ceph
	// RGW, MinIO, versitygw...), optionally with Object Lock.
	KindS3 = "s3"
)

// Object Lock retention modes accepted in Config.RetentionMode.
const (
	// RetentionGovernance lets an account with
	// s3:BypassGovernanceRetention delete a locked object early.
	RetentionGovernance = "GOVERNANCE"
	// RetentionCompliance lets nobody delete a locked object early.
	RetentionCompliance = "COMPLIANCE"
)

// DefaultPartSize is the multipart part size of s3 uploads: a file up to
// this size is one PUT, a larger one is uploaded in parts of this size.
const DefaultPartSize = 16 << 20

// Defaults applied by Config.WithDefaults.
const (
	// DefaultInterval is the time between two scheduled runs.
	DefaultInterval = 15 * time.Minute
	// DefaultRetryMin is the first delay after a failed run.
	DefaultRetryMin = 30 * time.Second
	// DefaultRetryMax caps the delay between failed runs.
	DefaultRetryMax = 30 * time.Minute
	// DefaultTimeout is the dial timeout and the longest a connection may
	// stay silent before it is given up.
	DefaultTimeout = 60 * time.Second
)

// Errors returned by configuration handling.
var (
	// ErrConfig marks an invalid Config; the wrapped text says which field.
	ErrConfig = errors.New("offload: invalid configuration")
	// ErrWindow marks a malformed Window.
	ErrWindow = errors.New("offload: invalid window")
)

// Retry bounds the exponential backoff between failed runs: the first
// retry waits Min, each further failure doubles the wait up to Max.
type Retry struct {
	// Min is the first delay after a failure.
	Min setting.Duration `yaml:"retry_min" json:"min"`
	// Max is the longest delay.
	Max setting.Duration `yaml:"retry_max" json:"max"`
}

// Config says where and when recordings are offloaded. It holds no secret:
// passwords and keys live in CredentialsFile, read only when connecting.
type Config struct {
	// Kind is KindDir, KindSFTP or KindSMB.
	Kind string `yaml:"kind" json:"kind"`
	// Host is the server's name or address (sftp, smb).
	Host string `yaml:"host" json:"host"`
	// Port is the server's TCP port; 0 means 22 (sftp) or 445 (smb).
	Port int `yaml:"port" json:"port"`
	// Share is the SMB share name (smb only).
	Share string `yaml:"share" json:"share"`
	// Path is, for dir, the absolute path of the mounted directory; for
	// sftp the base directory on the server (relative to the login
	// directory unless absolute); for smb a directory inside the share.
	// Empty means the login directory or the share's root.
	Path string `yaml:"path" json:"path"`
	// RequireMount makes a dir target refuse a Path that is not a mount
	// point, so that an unmounted share never fills the local card.
	RequireMount bool `yaml:"require_mount" json:"require_mount"`
	// User is the login name (sftp, smb).
	User string `yaml:"user" json:"user"`
	// Domain is the SMB/NTLM domain or workgroup; usually empty.
	Domain string `yaml:"domain" json:"domain"`
	// CredentialsFile names a file, readable by its owner only (mode 0600
	// or stricter), holding the password or the SSH key; see
	// LoadCredentials for its format. Required for sftp and smb.
	CredentialsFile string `yaml:"credentials_file" json:"credentials_file"`
	// KnownHostsFile is an OpenSSH known_hosts file the SFTP server's host
	// key must be listed in.
	KnownHostsFile string `yaml:"known_hosts_file" json:"known_hosts_file"`
	// HostKeyFingerprint pins the SFTP server's host key by its
	// "SHA256:..." fingerprint (as printed by ssh-keygen -l).
	HostKeyFingerprint string `yaml:"host_key_fingerprint" json:"host_key_fingerprint"`
	// InsecureHostKey accepts any SFTP host key. Only for tests and labs.
	InsecureHostKey bool `yaml:"insecure_host_key" json:"insecure_host_key"`
	// Interval is the time between scheduled runs; 0 means DefaultInterval.
	Interval setting.Duration `yaml:"interval" json:"interval"`
	// Window limits scheduled runs to a daily local-time window such as
	// "01:00-05:00" (it may wrap midnight: "22:00-06:00"); empty means any
	// time. Trigger ignores it.
	Window string `yaml:"window" json:"window"`
	// BandwidthBytesPerSec caps the upload rate; 0 means unlimited.
	BandwidthBytesPerSec int64 `yaml:"bandwidth_bytes_per_sec" json:"bandwidth_bytes_per_sec"`
	// DeleteAfterOffload deletes the local recording once its copy has
	// been verified and marked offloaded.
	DeleteAfterOffload bool `yaml:"delete_after_offload" json:"delete_after_offload"`
	// Retry bounds the backoff after failed runs; zero values take
	// DefaultRetryMin and DefaultRetryMax.
	Retry Retry `yaml:",inline" json:"retry"`
	// Timeout bounds dialing and how long a connection may stay silent;
	// 0 means DefaultTimeout.
	Timeout setting.Duration `yaml:"timeout" json:"timeout"`

	// Endpoint is the object store's URL (s3 only), "https://host[:port]"
	// or "http://host[:port]" (plain HTTP only for labs and tests).
	Endpoint string `yaml:"endpoint" json:"endpoint"`
	// Bucket is the s3 bucket; it must exist.
	Bucket string `yaml:"bucket" json:"bucket"`
	// Region is the bucket's region; empty means "us-east-1".
	Region string `yaml:"region" json:"region"`
	// Prefix is the appliance's folder in the bucket (letters, digits,
	// '.', '-', '_'); empty means the appliance's host name, so appliances
	// sharing a bucket never mix.
	Prefix string `yaml:"prefix" json:"prefix"`
	// CAFile is a PEM bundle of the CAs the endpoint's certificate must
	// chain to; empty means the system's roots.
	CAFile string `yaml:"ca_file" json:"ca_file"`
	// RetentionMode is the Object Lock mode set on every object when the
	// bucket has Object Lock: RetentionGovernance or RetentionCompliance.
	RetentionMode string `yaml:"retention_mode" json:"retention_mode"`
	// RetentionDays is how long every object is locked from its upload;
	// 0 sets no retention of its own (the bucket's default applies).
	RetentionDays int `yaml:"retention_days" json:"retention_days"`
	// PartSizeMB is the multipart part size in MiB; 0 means
	// DefaultPartSize. At least 5 (the S3 minimum), at most 5120.
	PartSizeMB int64 `yaml:"part_size_mb" json:"part_size_mb"`
}

// WithDefaults returns c with zero durations replaced by the defaults and
// Port set to the kind's standard port.
func (c Config) WithDefaults() Config {
	if c.Interval == 0 {
		c.Interval = setting.Duration(DefaultInterval)
	}
	if c.Retry.Min == 0 {
		c.Retry.Min = setting.Duration(DefaultRetryMin)
	}
	if c.Retry.Max == 0 {
		c.Retry.Max = setting.Duration(DefaultRetryMax)
	}
	if c.Timeout == 0 {
		c.Timeout = setting.Duration(DefaultTimeout)
	}
	if c.Kind == KindS3 {
		if c.Prefix == "" {
			c.Prefix = hostPrefix()
		}
		if c.Region == "" {
			c.Region = "us-east-1"
		}
		if c.PartSizeMB == 0 {
			c.PartSizeMB = DefaultPartSize >> 20
		}
		if c.RetentionMode == "" && c.RetentionDays > 0 {
			c.RetentionMode = RetentionGovernance
		}
	}
	if c.Port == 0 {
		switch c.Kind {
		case KindSFTP:
			c.Port = 22
		case KindSMB:
			c.Port = 445
		}
	}
	return c
}

// Validate reports every problem of c (after WithDefaults), each a
// *setting.Problem naming its key (relative to the section), joined; each
// wraps ErrConfig, ErrWindow or ErrCredentials(Mode). It checks the
// credentials file's existence and mode but does not read the secret.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var p setting.Problems
	c.validate(&p)
	return p.Err()
}

// invalid is Validate's error as the package's functions return it: the
// problems, under the section's name.
func (c Config) invalid() error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("offload: %w", err)
	}
	return nil
}

func (c Config) validate(p *setting.Problems) {
	bad := func(key, format string, a ...any) { p.Wrap(key, ErrConfig, format, a...) }
	switch c.Kind {
	case KindDir:
		if c.Path == "" || !path.IsAbs(strings.ReplaceAll(c.Path, "\\", "/")) {
			bad("path", "must be an absolute directory, got %q", c.Path)
		}
	case KindSFTP, KindSMB:
		if c.Host == "" {
			bad("host", "is required for %s", c.Kind)
		}
		if strings.ContainsAny(c.Host, " /\\@") {
			bad("host", "%q is not a host name or address", c.Host)
		}
		if c.Port < 1 || c.Port > 65535 {
			bad("port", "%d out of range", c.Port)
		}
		if c.User == "" {
			bad("user", "is required for %s", c.Kind)
		}
		if c.CredentialsFile == "" {
			bad("credentials_file", "is required for %s", c.Kind)
		} else {
			wrap(p, "credentials_file", checkSecretFile(c.CredentialsFile))
		}
		if c.Path != "" {
			if _, err := cleanRemote(c.Path, true); err != nil {
				bad("path", "%v", err)
			}
		}
		if c.Kind == KindSMB {
			if c.Share == "" || strings.ContainsAny(c.Share, "/\\") {
				bad("share", "must be a share name, got %q", c.Share)
			}
			if c.InsecureHostKey || c.KnownHostsFile != "" || c.HostKeyFingerprint != "" {
				bad("", "host key settings apply to sftp only")
			}
		} else {
			n := 0
			for _, set := range []bool{c.InsecureHostKey, c.KnownHostsFile != "", c.HostKeyFingerprint != ""} {
				if set {
					n++
				}
			}
			if n != 1 {
				bad("", "sftp needs exactly one of known_hosts_file, host_key_fingerprint or insecure_host_key")
			}
			if c.HostKeyFingerprint != "" && !strings.HasPrefix(c.HostKeyFingerprint, "SHA256:") {
				bad("host_key_fingerprint", "must look like \"SHA256:...\"")
			}
		}
	case KindS3:
		c.validateS3(p)
	case "":
		bad("kind", "is required (dir, sftp, smb or s3)")
	default:
		bad("kind", "unknown kind %q (want dir, sftp, smb or s3)", c.Kind)
	}
	if c.Kind != KindS3 && (c.Endpoint != "" || c.Bucket != "" || c.Region != "" || c.Prefix != "" || c.CAFile != "" ||
		c.RetentionMode != "" || c.RetentionDays != 0 || c.PartSizeMB != 0) {
		bad("", "endpoint, bucket, region, prefix, ca_file, retention_* and part_size_mb apply to s3 only, not %s", c.Kind)
	}
	if c.Interval < 0 || c.Timeout < 0 || c.BandwidthBytesPerSec < 0 {
		bad("", "interval, timeout and bandwidth must not be negative")
	}
	if c.Retry.Min < 0 || c.Retry.Max < c.Retry.Min {
		bad("retry_min", "need 0 <= retry_min <= retry_max, got %v..%v", c.Retry.Min, c.Retry.Max)
	}
	_, err := ParseWindow(c.Window)
	wrap(p, "window", err)
}

// wrap adds err, if not nil, as key's problem, of err's kind.
func wrap(p *setting.Problems, key string, err error) {
	if err != nil {
		p.Wrap(key, err, "%s", strings.TrimPrefix(err.Error(), "offload: "))
	}
}

// String describes c without secrets (the credentials file is named, never
// read).
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "offload{kind=%s", c.Kind)
	switch c.Kind {
	case KindDir:
		fmt.Fprintf(&b, " path=%q", c.Path)
	case KindS3:
		fmt.Fprintf(&b, " endpoint=%q bucket=%q prefix=%q credentials=<redacted>", c.Endpoint, c.Bucket, c.Prefix)
		if c.RetentionDays > 0 {
			fmt.Fprintf(&b, " retention=%s/%dd", c.RetentionMode, c.RetentionDays)
		}
	default:
		fmt.Fprintf(&b, " user=%q host=%q port=%d", c.User, c.Host, c.Port)
		if c.Share != "" {
			fmt.Fprintf(&b, " share=%q", c.Share)
		}
		if c.Path != "" {
			fmt.Fprintf(&b, " path=%q", c.Path)
		}
		b.WriteString(" credentials=<redacted>")
	}
	if c.Window != "" {
		fmt.Fprintf(&b, " window=%s", c.Window)
	}
	if c.BandwidthBytesPerSec > 0 {
		fmt.Fprintf(&b, " bandwidth=%dB/s", c.BandwidthBytesPerSec)
	}
	b.WriteString("}")
	return b.String()
}

// GoString is String, so %#v redacts too.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer without secrets.
func (c Config) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("kind", c.Kind)}
	if c.Kind == KindS3 {
		attrs = append(attrs, slog.String("endpoint", c.Endpoint), slog.String("bucket", c.Bucket), slog.String("prefix", c.Prefix))
	}
	if c.Host != "" {
		attrs = append(attrs, slog.String("host", c.Host), slog.Int("port", c.Port), slog.String("user", c.User))
	}
	if c.Share != "" {
		attrs = append(attrs, slog.String("share", c.Share))
	}
	if c.Path != "" {
		attrs = append(attrs, slog.String("path", c.Path))
	}
	if c.Window != "" {
		attrs = append(attrs, slog.String("window", c.Window))
	}
	if c.BandwidthBytesPerSec > 0 {
		attrs = append(attrs, slog.Int64("bandwidth_bytes_per_sec", c.BandwidthBytesPerSec))
	}
	return slog.GroupValue(attrs...)
}

// Window is a daily local-time interval [Start, End) in minutes after
// midnight. Start > End wraps midnight; the zero Window (Start == End)
// means any time.
type Window struct {
	// Start is the first minute of the day inside the window.
	Start int
	// End is the first minute of the day after the window.
	End int
}

// ParseWindow reads "HH:MM-HH:MM" (24-hour, local time). The empty string
// is the always-open zero Window. A window may not be empty ("02:00-02:00").
func ParseWindow(s string) (Window, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Window{}, nil
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return Window{}, fmt.Errorf("%w: %q: want HH:MM-HH:MM", ErrWindow, s)
	}
	start, err := parseClock(strings.TrimSpace(a))
	if err != nil {
		return Window{}, fmt.Errorf("%w: %q: %w", ErrWindow, s, err)
	}
	end, err := parseClock(strings.TrimSpace(b))
	if err != nil {
		return Window{}, fmt.Errorf("%w: %q: %w", ErrWindow, s, err)
	}
	if start == end {
		return Window{}, fmt.Errorf("%w: %q: start equals end", ErrWindow, s)
	}
	return Window{Start: start, End: end}, nil
}

var errClock = errors.New("want HH:MM between 00:00 and 24:00")

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 {
		return 0, errClock
	}
	hh, err1 := strconv.ParseUint(h, 10, 8)
	mm, err2 := strconv.ParseUint(m, 10, 8)
	if err1 != nil || err2 != nil || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, errClock
	}
	return int(hh)*60 + int(mm), nil
}

// Contains reports whether t (in its own location) falls inside w.
func (w Window) Contains(t time.Time) bool {
	if w.Start == w.End {
		return true
	}
	m := t.Hour()*60 + t.Minute()
	if w.Start < w.End {
		return m >= w.Start && m < w.End
	}
	return m >= w.Start || m < w.End
}

// Next returns the first minute at or after t at which w is open (t
// itself when it is inside).
func (w Window) Next(t time.Time) time.Time {
	if w.Contains(t) {
		return t
	}
	y, mo, d := t.Date()
	start := time.Date(y, mo, d, w.Start/60, w.Start%60, 0, 0, t.Location())
	if !start.After(t) {
		start = time.Date(y, mo, d+1, w.Start/60, w.Start%60, 0, 0, t.Location())
	}
	return start
}

// String formats w as "HH:MM-HH:MM", or "" for the zero Window.
func (w Window) String() string {
	if w.Start == w.End {
		return ""
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d", w.Start/60, w.Start%60, w.End/60, w.End%60)
}
