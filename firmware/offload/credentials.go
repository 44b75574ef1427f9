package offload

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// Errors about credentials. Their texts never include a secret.
var (
	// ErrCredentialsMode is returned for a credentials or key file that
	// group or others may read or write, or that is not a regular file.
	ErrCredentialsMode = errors.New("offload: credentials file must be a regular file readable by its owner only (chmod 600)")
	// ErrCredentials is returned for a credentials file that cannot be read
	// or understood.
	ErrCredentials = errors.New("offload: bad credentials file")
)

// maxSecretFile bounds what is read from a credentials or key file.
const maxSecretFile = 64 << 10

// credentials are the secrets read from Config.CredentialsFile. Every way
// of printing them is redacted.
type credentials struct {
	password   string
	key        []byte // PEM private key
	passphrase string
	accessKey  string // s3
	secretKey  string // s3
}

const redacted = "<redacted>"

// String implements fmt.Stringer without the secrets.
func (credentials) String() string { return redacted }

// GoString implements fmt.GoStringer without the secrets.
func (credentials) GoString() string { return redacted }

// LogValue implements slog.LogValuer without the secrets.
func (credentials) LogValue() slog.Value { return slog.StringValue(redacted) }

// Format implements fmt.Formatter so that every verb (%v, %+v, %x, %q...)
// prints the redacted form.
func (credentials) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// secrets lists the strings that must never be printed.
func (c credentials) secrets() []string {
	var s []string
	if c.password != "" {
		s = append(s, c.password)
	}
	if c.passphrase != "" {
		s = append(s, c.passphrase)
	}
	if c.secretKey != "" {
		s = append(s, c.secretKey)
	}
	return s
}

// checkSecretFile refuses a file that is not a regular file or that group
// or others can access.
func checkSecretFile(name string) error {
	st, err := os.Stat(name)
	if err != nil {
		return fmt.Errorf("%w: %q: %w", ErrCredentials, name, errors.Unwrap(err))
	}
	if !st.Mode().IsRegular() || st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%w: %q has mode %v", ErrCredentialsMode, name, st.Mode())
	}
	return nil
}

// readSecretFile reads a file after checkSecretFile.
func readSecretFile(name string) ([]byte, error) {
	if err := checkSecretFile(name); err != nil {
		return nil, err
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrCredentials, name, errors.Unwrap(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %q: read failed", ErrCredentials, name)
	}
	if len(data) > maxSecretFile {
		return nil, fmt.Errorf("%w: %q is larger than %d bytes", ErrCredentials, name, maxSecretFile)
	}
	return data, nil
}

// loadCredentials reads and parses a credentials file (see
// parseCredentials); a key_file it names must be private too.
func loadCredentials(name string) (credentials, error) {
	data, err := readSecretFile(name)
	if err != nil {
		return credentials{}, err
	}
	c, keyFile, err := parseCredentials(data)
	if err != nil {
		return credentials{}, fmt.Errorf("%w (%q)", err, name)
	}
	if keyFile != "" {
		key, err := readSecretFile(keyFile)
		if err != nil {
			return credentials{}, err
		}
		c.key = key
	}
	return c, nil
}

// parseCredentials reads a credentials file. Accepted forms:
//
//   - a PEM private key (an OpenSSH or PKCS#8 key for SFTP);
//   - lines "password=...", "key_file=/path", "key_passphrase=...", or
//     for s3 "access_key=..." and "secret_key=..."
//     (blank lines and lines starting with # are ignored);
//   - a single line that is none of these: the password itself.
//
// The trailing newline of a line is not part of the value. Errors never
// quote the file's content.
func parseCredentials(data []byte) (credentials, string, error) {
	if bytes.Contains(data, []byte("-----BEGIN ")) {
		if !bytes.Contains(data, []byte("PRIVATE KEY-----")) {
			return credentials{}, "", fmt.Errorf("%w: PEM block is not a private key", ErrCredentials)
		}
		return credentials{key: bytes.Clone(data)}, "", nil
	}
	text := strings.TrimRight(string(data), "\r\n")
	lines := strings.Split(text, "\n")
	for i := range lines {
		lines[i] = strings.TrimSuffix(lines[i], "\r")
	}
	var c credentials
	var keyFile string
	keyed := false
	for _, l := range lines {
		if k, _, ok := strings.Cut(l, "="); ok && isCredentialKey(strings.TrimSpace(k)) {
			keyed = true
		}
	}
	if !keyed {
		if len(lines) != 1 || lines[0] == "" {
			return credentials{}, "", fmt.Errorf("%w: want one password line, key=value lines or a PEM private key", ErrCredentials)
		}
		c.password = lines[0]
		return c, "", nil
	}
	for n, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return credentials{}, "", fmt.Errorf("%w: line %d is not key=value", ErrCredentials, n+1)
		}
		switch strings.TrimSpace(k) {
		case "password":
			c.password = v
		case "key_file":
			keyFile = strings.TrimSpace(v)
		case "key_passphrase":
			c.passphrase = v
		case "access_key":
			c.accessKey = strings.TrimSpace(v)
		case "secret_key":
			c.secretKey = v
		default:
			return credentials{}, "", fmt.Errorf("%w: line %d: unknown key", ErrCredentials, n+1)
		}
	}
	if (c.accessKey == "") != (c.secretKey == "") {
		return credentials{}, "", fmt.Errorf("%w: access_key and secret_key go together", ErrCredentials)
	}
	if c.password == "" && keyFile == "" && c.accessKey == "" {
		return credentials{}, "", fmt.Errorf("%w: neither password nor key_file given", ErrCredentials)
	}
	return c, keyFile, nil
}

func isCredentialKey(k string) bool {
	return k == "password" || k == "key_file" || k == "key_passphrase" || k == "access_key" || k == "secret_key"
}

// scrubbed is an error whose text had secrets replaced. It has no Unwrap
// (the original text must not be reachable); Is keeps errors.Is working
// on the original chain.
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string        { return e.msg }
func (e *scrubbed) Is(target error) bool { return errors.Is(e.err, target) }

// scrub returns err with every secret in its text replaced by <redacted>.
// Secrets shorter than 3 characters are not searched for (they would
// mangle ordinary text and hide nothing).
func scrub(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	changed := false
	for _, s := range secrets {
		if len(s) >= 3 && strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, redacted)
			changed = true
		}
	}
	if !changed {
		return err
	}
	return &scrubbed{msg: msg, err: err}
}
