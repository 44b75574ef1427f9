package datadir

import (
	"path"
	"path/filepath"
	"time"
)

// Layout is a data directory: its root, and where each of its files
// lives under it.
//
//	ROOT/index.db                               the bbolt index
//	ROOT/keys/spanrec.key, ROOT/keys/spanrec.pub  the signing key pair
//	ROOT/users.json                             the console accounts
//	ROOT/spanrec.sock                           the control socket (unless configured elsewhere)
//	ROOT/recordings/YYYY/MM/DD/<id><ext>        recordings (.wav, .rtp.pcapng)
//	ROOT/web/cert.pem, ROOT/web/key.pem         the web UI's self-signed certificate
type Layout string

// File names and folders of a data directory (slash-separated, relative
// to its root).
const (
	IndexName      = "index.db"
	KeysDirName    = "keys"
	PrivateKeyName = "spanrec.key"
	PublicKeyName  = "spanrec.pub"
	UsersName      = "users.json"
	SocketName     = "spanrec.sock"
	RecordingsDir  = "recordings"
	WebDirName     = "web"
	WebCertName    = "cert.pem"
	WebKeyName     = "key.pem"
)

// Root is the data directory itself.
func (l Layout) Root() string { return string(l) }

// Index is the bbolt index.
func (l Layout) Index() string { return l.Abs(IndexName) }

// KeysDir holds the key pair (0700).
func (l Layout) KeysDir() string { return l.Abs(KeysDirName) }

// PrivateKey is the Ed25519 private key (0600).
func (l Layout) PrivateKey() string { return filepath.Join(l.KeysDir(), PrivateKeyName) }

// PublicKey is the public key, for whoever verifies recordings.
func (l Layout) PublicKey() string { return filepath.Join(l.KeysDir(), PublicKeyName) }

// Users is the console accounts' file.
func (l Layout) Users() string { return l.Abs(UsersName) }

// Socket is the control socket's default path.
func (l Layout) Socket() string { return l.Abs(SocketName) }

// Recordings is the folder of every recording.
func (l Layout) Recordings() string { return l.Abs(RecordingsDir) }

// WebDir holds the web UI's self-signed certificate (0700).
func (l Layout) WebDir() string { return l.Abs(WebDirName) }

// WebCert is the self-signed certificate (PEM).
func (l Layout) WebCert() string { return filepath.Join(l.WebDir(), WebCertName) }

// WebKey is the self-signed certificate's private key (0600).
func (l Layout) WebKey() string { return filepath.Join(l.WebDir(), WebKeyName) }

// Abs is the absolute (or root-relative) path of rel, a slash-separated
// name relative to the data directory as the index stores it.
func (l Layout) Abs(rel string) string { return filepath.Join(string(l), filepath.FromSlash(rel)) }

// RecordingName is the slash-separated name, relative to the data
// directory, of the recording id with extension ext (".wav",
// ".rtp.pcapng") that began on day: recordings/YYYY/MM/DD/<id><ext>. It
// is the name the index keeps (Call.File).
func RecordingName(day time.Time, id, ext string) string {
	return path.Join(RecordingsDir, day.Format("2006"), day.Format("01"), day.Format("02"), id+ext)
}
