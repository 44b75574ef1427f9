package labtest

import (
	_ "embed"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"text/template"
)

//go:embed kamailio.cfg.tmpl
var kamailioTemplate string

// KamailioConfig configures the proxy/registrar.
type KamailioConfig struct {
	// Password is the digest password every user must give (REGISTER is
	// challenged with 401, calls from the domain with 407); "" turns
	// authentication off.
	Password string
	// Port is the SIP port of its UDP and TCP listeners; 0 means 5060.
	Port int
	// Debug is kamailio's log level (2 = info, 3 = debug); 0 means 2.
	Debug int
}

// Kamailio is a kamailio proxy and registrar on one host. Its domain is the
// host's address: users register as sip:USER@ADDR.
type Kamailio struct {
	*Proc
	Host     *Host
	Port     int
	Password string
	Config   string // path of the generated kamailio.cfg
}

// StartKamailio writes kamailio.cfg from the package's template, checks it
// with kamailio -c, starts kamailio on h and waits until it listens on UDP
// and TCP. It skips the test when kamailio is not installed.
func StartKamailio(t testing.TB, h *Host, cfg KamailioConfig) *Kamailio {
	t.Helper()
	bin, err := exec.LookPath("kamailio")
	if err != nil {
		t.Skipf("labtest: kamailio not installed (Debian: kamailio): %v", err)
	}
	if cfg.Port == 0 {
		cfg.Port = 5060
	}
	if cfg.Debug == 0 {
		cfg.Debug = 2
	}
	if strings.ContainsAny(cfg.Password, "\"\\$\n") {
		t.Fatalf("labtest: kamailio password %q: no quotes, backslashes or $", cfg.Password)
	}
	h.slot() // a UA on this host starts on the next slot's ports
	dir := h.sw.claim("kamailio-" + h.Name)
	var b strings.Builder
	err = template.Must(template.New("kamailio.cfg").Parse(kamailioTemplate)).Execute(&b, map[string]any{
		"Addr": h.Addr, "Port": cfg.Port, "Password": cfg.Password, "Debug": cfg.Debug,
	})
	if err != nil {
		t.Fatalf("labtest: kamailio.cfg: %v", err)
	}
	path := filepath.Join(dir, "kamailio.cfg")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatalf("labtest: %v", err)
	}
	if out, err := h.Command(bin, "-c", "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("labtest: kamailio -c -f %s: %v\n%s", path, err, out)
	}
	k := &Kamailio{Host: h, Port: cfg.Port, Password: cfg.Password, Config: path}
	k.Proc = startProc(t, h, "kamailio-"+h.Name, nil, bin, "-f", path, "-DD", "-E", "-Y", dir, "-w", dir, "-m", "64", "-M", "8")
	k.start(nil)
	k.WaitListening("udp", cfg.Port)
	k.WaitListening("tcp", cfg.Port)
	return k
}

// Domain is the SIP domain users register in: the proxy's address.
func (k *Kamailio) Domain() string { return k.Host.Addr.String() }

// AOR is the address of record of user: sip:USER@DOMAIN.
func (k *Kamailio) AOR(user string) string { return "sip:" + user + "@" + k.Domain() }

// WaitRegistrations waits until kamailio has saved n more bindings of user
// (counting from the start) and returns their Contact headers.
func (k *Kamailio) WaitRegistrations(user string, n int) []string {
	k.t.Helper()
	re := regexp.MustCompile(`labtest: registered sip:` + regexp.QuoteMeta(user) + `@\S+ contact (.+) expires`)
	var contacts []string
	for range n {
		contacts = append(contacts, k.Next(re)[1])
	}
	return contacts
}
