package offloadtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// VersityGWEnv names an environment variable that may hold the path of
// the versitygw binary StartS3 runs; otherwise it is looked up in PATH
// and in $GOPATH/bin (where `go install github.com/versity/versitygw/cmd/versitygw`
// puts it; .ci/run does).
const VersityGWEnv = "SPANREC_VERSITYGW"

// S3 is a private S3 server (versitygw with its POSIX backend) on
// 127.0.0.1, with versioning (so buckets may have Object Lock).
type S3 struct {
	Proc
	// Endpoint is the server's URL, "http://127.0.0.1:PORT".
	Endpoint string
	// AccessKey and SecretKey are the root account's credentials.
	AccessKey, SecretKey string
	// CredentialsFile holds them as offload reads them (access_key=,
	// secret_key= lines, mode 0600).
	CredentialsFile string
	// Root is the directory the buckets live in (one folder each).
	Root string
	// Dir is the server's private directory.
	Dir string
}

// versityGW finds the versitygw binary.
func versityGW() (string, error) {
	if p := os.Getenv(VersityGWEnv); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		home, _ := os.UserHomeDir()
		gopath = filepath.Join(home, "go")
	}
	p := filepath.Join(gopath, "bin", "versitygw")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("versitygw not in PATH nor %s (go install github.com/versity/versitygw/cmd/versitygw@latest, or set %s)", p, VersityGWEnv)
	}
	return p, nil
}

// StartS3 starts versitygw on a free port of 127.0.0.1, stopped when t
// ends; it skips t when the binary is missing. Stop and Start kill and
// bring back the same server (same port, same buckets).
func StartS3(t testing.TB) *S3 {
	t.Helper()
	bin, err := versityGW()
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "buckets")
	versions := filepath.Join(dir, "versions")
	for _, d := range []string{root, versions} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	port := FreePort(t)
	s := &S3{
		Endpoint:  fmt.Sprintf("http://%s:%d", Host, port),
		AccessKey: "spanrec-test",
		SecretKey: "s3cret-key-for-tests-only",
		Root:      root,
		Dir:       dir,
	}
	s.CredentialsFile = writeSecret(t, filepath.Join(dir, "s3.cred"),
		"access_key="+s.AccessKey+"\nsecret_key="+s.SecretKey+"\n")
	s.Proc = Proc{
		Name: "versitygw",
		Args: []string{bin, "--access", s.AccessKey, "--secret", s.SecretKey,
			"--port", fmt.Sprintf("%s:%d", Host, port),
			"posix", "--versioning-dir", versions, root},
		Port: port,
	}
	s.Start(t)
	t.Cleanup(s.Stop)
	return s
}
