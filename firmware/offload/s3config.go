package offload

import (
	"net/url"
	"os"
	"strings"

	"spanrec/firmware/config/setting"
)

// hostPrefix is the default s3 prefix: the appliance's host name up to
// its first dot, reduced to the characters a prefix may hold ("" when
// the host name is unknown or generic, see genericHost).
func hostPrefix() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	h, _, _ = strings.Cut(h, ".")
	if genericHost(h) {
		return ""
	}
	var b strings.Builder
	for _, r := range h {
		if prefixRune(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func prefixRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
}

// genericHost tells a host name many units share (the firmware image's
// default, a bare system's): never a default prefix, or appliances would
// write into one folder.
func genericHost(h string) bool {
	switch strings.ToLower(h) {
	case "spanrec", "localhost", "buildroot", "":
		return true
	}
	return false
}

// ValidPrefix reports whether p can be an appliance's folder in a
// bucket: 1 to 63 letters, digits, '.', '-' and '_', not starting with
// '.' and not "anchors".
func ValidPrefix(p string) bool {
	if p == "" || len(p) > 63 || p[0] == '.' || p == "anchors" {
		return false
	}
	for _, r := range p {
		if !prefixRune(r) {
			return false
		}
	}
	return true
}

// validateS3 checks the s3 fields of c (after WithDefaults).
func (c Config) validateS3(p *setting.Problems) {
	bad := func(key, format string, a ...any) { p.Wrap(key, ErrConfig, format, a...) }
	u, err := url.Parse(c.Endpoint)
	if c.Endpoint == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.User != nil || u.RawQuery != "" {
		bad("endpoint", "must look like https://host[:port], got %q", c.Endpoint)
	}
	if n := len(c.Bucket); n < 3 || n > 63 || strings.Trim(c.Bucket, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" ||
		strings.Trim(c.Bucket[:1]+c.Bucket[n-1:], "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
		bad("bucket", "%q is not an S3 bucket name (3-63 lowercase letters, digits, '.', '-')", c.Bucket)
	}
	if !ValidPrefix(c.Prefix) {
		if c.Prefix == "" {
			bad("prefix", "is required: the host name is unknown or one every unit has (the image's \"spanrec\"); set offload.prefix, or the host name, to this appliance's own name")
		} else {
			bad("prefix", "%q: want 1-63 letters, digits, '.', '-', '_' (not \"anchors\")", c.Prefix)
		}
	}
	if c.CredentialsFile == "" {
		bad("credentials_file", "is required for s3")
	} else {
		wrap(p, "credentials_file", checkSecretFile(c.CredentialsFile))
	}
	if c.CAFile != "" {
		if u == nil || u.Scheme != "https" {
			bad("ca_file", "needs an https endpoint")
		}
		if _, err := os.Stat(c.CAFile); err != nil {
			bad("ca_file", "%v", err)
		}
	}
	switch c.RetentionMode {
	case "", RetentionGovernance, RetentionCompliance:
	default:
		bad("retention_mode", "%q: want GOVERNANCE or COMPLIANCE", c.RetentionMode)
	}
	if c.RetentionDays < 0 || c.RetentionDays > 36500 {
		bad("retention_days", "%d out of range 0..36500", c.RetentionDays)
	}
	if c.PartSizeMB < 5 || c.PartSizeMB > 5120 {
		bad("part_size_mb", "%d out of range 5..5120 (MiB)", c.PartSizeMB)
	}
	if c.Host != "" || c.Port != 0 || c.Share != "" || c.Path != "" || c.User != "" || c.Domain != "" ||
		c.RequireMount || c.KnownHostsFile != "" || c.HostKeyFingerprint != "" || c.InsecureHostKey {
		bad("", "host, port, share, path, user, domain, require_mount and host key settings do not apply to s3 (use endpoint, bucket, prefix)")
	}
}
