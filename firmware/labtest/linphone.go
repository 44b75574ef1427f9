package labtest

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// LinphoneConfig describes one linphonec user agent.
type LinphoneConfig struct {
	// User is the SIP user, e.g. "carol".
	User string
	// Name names the peer's log and config dir; "" means User.
	Name string
	// Proxy is the registrar and outbound proxy; nil means no registration,
	// the agent is reached at its host's address.
	Proxy *Kamailio
	// Transport is "udp" (the default) or "tcp", for registration and calls.
	Transport string
	// Codecs are the enabled audio codecs in order, "mime/rate[/channels]"
	// as linphone names them: "opus/48000/2", "PCMU/8000", "PCMA/8000",
	// "G722/8000", "speex/16000". All others are disabled. nil keeps
	// linphone's defaults (Opus first).
	Codecs []string
	// SRTP sets media_encryption=srtp and media_encryption_mandatory=1:
	// SDES keys (a=crypto, one line per suite linphone offers) on an
	// RTP/SAVP m-line, and a call without SRTP is refused.
	SRTP bool
	// AutoAnswer starts linphonec with -a.
	AutoAnswer bool
	// DTMF is "info" (the default: SIP INFO, use_info=1 use_rfc2833=0) or
	// "rfc4733" (telephone events in RTP).
	DTMF string
	// Audio is the file it plays; the zero value means Speech of
	// SpeechText(User) at the first codec's rate (Opus: 48 kHz stereo).
	Audio Audio
	// Extra are more lines for the rc file, after the generated ones
	// ("[section]" lines included).
	Extra []string
}

// Linphone is a running linphonec, driven through a pipe on its standard
// input, with its own HOME.
type Linphone struct {
	*Proc
	Host     *Host
	Config   LinphoneConfig
	Dir      string // rc file, HOME, recording
	SIPPort  int
	RTPPort  int
	RC       string // path of the rc file (linphonec rewrites it)
	Record   string // where it records what it receives
	played   Audio
	stdin    io.WriteCloser
	received int // repaired copies of the recording made so far
}

// linphoneCodecs are the audio codecs of Debian's liblinphone 5.1, as its
// rc file lists them: all but the chosen are written disabled.
var linphoneCodecs = []string{"opus/48000/2", "speex/16000/1", "speex/8000/1", "PCMU/8000/1", "PCMA/8000/1",
	"GSM/8000/1", "G722/8000/1", "G729/8000/1", "speex/32000/1", "G726-16/8000/1", "G726-24/8000/1",
	"G726-32/8000/1", "G726-40/8000/1", "AAL2-G726-16/8000/1", "AAL2-G726-24/8000/1", "AAL2-G726-32/8000/1",
	"AAL2-G726-40/8000/1", "L16/44100/2", "L16/44100/1"}

// lpPeer is the peer in linphonec's call lines: a bare URI, or one in
// angle brackets after a display name (`"carol" <sip:carol@...>`, what a
// linphonec caller sends); the URI is the submatch.
const lpPeer = `(?:"[^"]*" )?<?(sips?:[^\s>]+)>?`

var (
	lpIncoming    = regexp.MustCompile(`Receiving new incoming call from ` + lpPeer + `, assigned id \d+`)
	lpEstablished = regexp.MustCompile(`Call \d+ with ` + lpPeer + ` connected\.`)
	lpClosed      = regexp.MustCompile(`Call \d+ with ` + lpPeer + ` (?:ended \(.*\)|error)\.`)
	lpStreams     = regexp.MustCompile(`Media streams established with ` + lpPeer + ` for call \d+`)
	lpDTMF        = regexp.MustCompile(`Receiving tone (.) from `)
	lpPaused      = regexp.MustCompile(`Call \d+ with ` + lpPeer + ` is now paused\.|cannot create \[INVITE\]|problem to resume|no call to pause`)
	lpRegStatus   = regexp.MustCompile(`(registered), identity=|registered=-?\d|unregistered`)
)

// StartLinphone writes the rc file and HOME, starts linphonec on h, selects
// the files soundcard with the fixture to play and a file to record, and
// waits until its SIP port is bound. It skips the test when linphonec is
// not installed.
func StartLinphone(t testing.TB, h *Host, cfg LinphoneConfig) *Linphone {
	t.Helper()
	bin, err := exec.LookPath("linphonec")
	if err != nil {
		t.Skipf("labtest: linphonec not installed (Debian: linphone-cli): %v", err)
	}
	cfg.defaults(t)
	if cfg.Audio.Path == "" {
		first := "opus/48000/2"
		if len(cfg.Codecs) > 0 {
			first = cfg.Codecs[0]
		}
		rate, ch := codecRate(first)
		cfg.Audio = Speech(t, cfg.User, SpeechText(cfg.User), rate, ch)
	}
	n := h.slot()
	l := &Linphone{Host: h, Config: cfg, SIPPort: 5060 + 10*n, RTPPort: 10000 + 1000*n, played: cfg.Audio}
	l.Dir = h.sw.claim(cfg.Name)
	home := filepath.Join(l.Dir, "home")
	// linphonec will not start without its data dir.
	if err := os.MkdirAll(filepath.Join(home, ".local", "share", "linphone"), 0o755); err != nil {
		t.Fatalf("labtest: %v", err)
	}
	l.RC = filepath.Join(l.Dir, "linphonerc")
	l.Record = filepath.Join(l.Dir, "received.wav")
	rc, err := l.rc()
	if err != nil {
		t.Fatalf("labtest: %v", err)
	}
	if err := os.WriteFile(l.RC, []byte(rc), 0o600); err != nil {
		t.Fatalf("labtest: %v", err)
	}
	args := []string{"-c", l.RC}
	if cfg.AutoAnswer {
		args = append(args, "-a")
	}
	l.Proc = startProc(t, h, cfg.Name, []string{"HOME=" + home}, bin, args...)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatalf("labtest: %v", err)
	}
	l.stdin = pw
	l.start(pr)
	pr.Close()
	t.Cleanup(func() { l.stdin.Close() })
	l.WaitListening("udp", l.SIPPort)
	l.Send("soundcard use files")
	l.Send("play " + cfg.Audio.Path)
	l.Send("record " + l.Record)
	return l
}

func (c *LinphoneConfig) defaults(t testing.TB) {
	t.Helper()
	if c.User == "" {
		t.Fatal("labtest: LinphoneConfig.User is empty")
	}
	if c.Name == "" {
		c.Name = c.User
	}
	if c.Transport == "" {
		c.Transport = "udp"
	}
	if c.Transport != "udp" && c.Transport != "tcp" {
		t.Fatalf("labtest: transport %q: want udp or tcp", c.Transport)
	}
	switch c.DTMF {
	case "":
		c.DTMF = "info"
	case "info", "rfc4733":
	default:
		t.Fatalf("labtest: DTMF mode %q: want info or rfc4733", c.DTMF)
	}
}

// rc is the linphonerc.
func (l *Linphone) rc() (string, error) {
	c := l.Config
	aor := l.aor()
	info, rfc := "1", "0"
	if c.DTMF == "rfc4733" {
		info, rfc = "0", "1"
	}
	encryption, mandatory := "none", "0"
	if c.SRTP {
		encryption, mandatory = "srtp", "1"
	}
	tcpPort, defaultProxy := -1, -1
	if c.Transport == "tcp" {
		tcpPort = l.SIPPort
	}
	if c.Proxy != nil {
		defaultProxy = 0
	}
	lines := []string{
		"[sip]",
		fmt.Sprintf("sip_port=%d", l.SIPPort),
		fmt.Sprintf("sip_tcp_port=%d", tcpPort),
		"sip_tls_port=-1",
		fmt.Sprintf("contact=\"%s\" <sip:%s@%s:%d>", c.User, c.User, l.Host.Addr, l.SIPPort),
		"use_info=" + info,
		"use_rfc2833=" + rfc,
		"use_ipv6=0",
		"guess_hostname=1",
		"register_only_when_network_is_up=0",
		"inc_timeout=60",
		"auto_send_ringing=1",
		"media_encryption=" + encryption,
		"media_encryption_mandatory=" + mandatory,
		fmt.Sprintf("default_proxy=%d", defaultProxy),
		"[rtp]",
		fmt.Sprintf("audio_rtp_port=%d", l.RTPPort),
		fmt.Sprintf("video_rtp_port=%d", l.RTPPort+2),
		fmt.Sprintf("text_rtp_port=%d", l.RTPPort+4),
		// A fixed jitter buffer: the adaptive one time-stretches what
		// linphonec records, which then matches what was sent less well.
		"audio_jitt_comp=60",
		"audio_adaptive_jitt_comp_enabled=0",
		"nortp_timeout=30",
		"[video]",
		"enabled=0", "capture=0", "display=0", "automatically_initiate=0", "automatically_accept=0",
		"[sound]",
		"echocancellation=0",
	}
	if k := c.Proxy; k != nil {
		lines = append(lines,
			"[proxy_0]",
			fmt.Sprintf("reg_proxy=<sip:%s:%d;transport=%s>", k.Domain(), k.Port, c.Transport),
			fmt.Sprintf("reg_route=<sip:%s:%d;transport=%s;lr>", k.Domain(), k.Port, c.Transport),
			fmt.Sprintf("reg_identity=\"%s\" <%s>", c.User, aor),
			"reg_expires=300",
			"reg_sendregister=1",
			"publish=0",
		)
		if k.Password != "" {
			lines = append(lines,
				"[auth_info_0]",
				"username="+c.User,
				"passwd="+k.Password,
				"realm="+k.Domain(),
				"domain="+k.Domain(),
			)
		}
	}
	if c.Codecs != nil {
		var order []string
		for _, want := range c.Codecs {
			found := ""
			for _, have := range linphoneCodecs {
				if strings.HasPrefix(strings.ToLower(have+"/"), strings.ToLower(want+"/")) && !slices.Contains(order, have) {
					found = have
					break
				}
			}
			if found == "" {
				return "", fmt.Errorf("linphone has no codec %q (known: %v)", want, linphoneCodecs)
			}
			order = append(order, found)
		}
		enabled := len(order)
		for _, have := range linphoneCodecs {
			if !slices.Contains(order, have) {
				order = append(order, have)
			}
		}
		for i, codec := range order {
			f := strings.Split(codec, "/")
			on := 0
			if i < enabled {
				on = 1
			}
			lines = append(lines, fmt.Sprintf("[audio_codec_%d]", i), "mime="+f[0], "rate="+f[1], "channels="+f[2],
				fmt.Sprintf("enabled=%d", on))
		}
	}
	return strings.Join(append(lines, c.Extra...), "\n") + "\n", nil
}

func (l *Linphone) aor() string {
	if l.Config.Proxy != nil {
		return l.Config.Proxy.AOR(l.Config.User)
	}
	return fmt.Sprintf("sip:%s@%s:%d", l.Config.User, l.Host.Addr, l.SIPPort)
}

// Send writes one command line to linphonec, e.g. "calls".
func (l *Linphone) Send(command string) {
	l.t.Helper()
	l.note("labtest> %s", command)
	if _, err := io.WriteString(l.stdin, command+"\n"); err != nil {
		l.fatalf("%s: send %q: %v", l.Name, command, err)
	}
}

// URI is where this agent is called.
func (l *Linphone) URI() string {
	if l.Config.Proxy == nil && l.Config.Transport == "tcp" {
		return l.aor() + ";transport=tcp"
	}
	return l.aor()
}

// Dial calls uri.
func (l *Linphone) Dial(uri string) { l.t.Helper(); l.Send("call " + uri) }

// Answer accepts the ringing call.
func (l *Linphone) Answer() { l.t.Helper(); l.Send("answer") }

// Hangup ends the current call.
func (l *Linphone) Hangup() { l.t.Helper(); l.Send("terminate") }

// Hold pauses the call (a re-INVITE with a=sendonly) and waits until
// linphonec says it is paused. linphonec cannot start the re-INVITE while
// another transaction of the dialog (a SIP INFO digit) is pending: that
// fails the test with its message.
func (l *Linphone) Hold() {
	l.t.Helper()
	mark := l.Mark()
	l.Send("pause")
	if m := l.After(mark, lpPaused); !strings.Contains(m[0], "is now paused") {
		l.fatalf("%s: pause failed: %s", l.Name, m[0])
	}
}

// Resume resumes the paused call and waits until its media run again
// (linphonec says "Media streams established", not "connected", then).
func (l *Linphone) Resume() {
	l.t.Helper()
	mark := l.Mark()
	l.Send("resume")
	l.After(mark, lpStreams)
}

// SendDTMF sends digits in the configured mode (SIP INFO by default), one
// command each: linphonec sends a digit when a line holds only it. Each
// digit waits until linphonec has taken its line (it echoes it). While it
// is busy with a digit (about a second) a line written to it waits until
// the next line arrives, so empty lines are written to move it on.
func (l *Linphone) SendDTMF(digits string) {
	l.t.Helper()
	for _, d := range digits {
		echo := regexp.MustCompile(`^(linphonec> )?` + regexp.QuoteMeta(string(d)) + `$`)
		mark := l.Mark()
		l.Send(string(d))
		deadline := time.Now().Add(Timeout)
		for {
			if _, _, ok := l.find(mark, echo, 500*time.Millisecond); ok {
				break
			}
			if time.Now().After(deadline) {
				l.fatalf("%s: digit %c not taken after %v", l.Name, d, Timeout)
			}
			l.Send("")
		}
	}
}

// WaitRegistered polls "status register" until linphonec reports itself
// registered.
func (l *Linphone) WaitRegistered() {
	l.t.Helper()
	deadline := time.Now().Add(Timeout)
	for {
		mark := l.Mark()
		l.Send("status register")
		if _, m, ok := l.find(mark, lpRegStatus, Timeout); ok && m[1] == "registered" {
			return
		}
		if time.Now().After(deadline) {
			l.fatalf("%s: not registered after %v", l.Name, Timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// WaitIncoming waits for the next incoming call and returns the caller.
func (l *Linphone) WaitIncoming() string { l.t.Helper(); return l.Next(lpIncoming)[1] }

// WaitEstablished waits for the next "connected" call and returns the peer.
func (l *Linphone) WaitEstablished() string { l.t.Helper(); return l.Next(lpEstablished)[1] }

// WaitClosed waits for the next call to end and returns the peer.
func (l *Linphone) WaitClosed() string { l.t.Helper(); return l.Next(lpClosed)[1] }

// WaitDTMF waits for the next digit received.
func (l *Linphone) WaitDTMF() string { l.t.Helper(); return l.Next(lpDTMF)[1] }

// Played is the file it plays.
func (l *Linphone) Played() Audio { return l.played }

// Received is its recording of the last call, once linphonec has closed
// the file (at the end of the call), as a repaired copy: linphonec's
// recorder (mediastreamer's MSFileRec) writes a data chunk size that counts
// the 44-byte header too, and a RIFF size 40 bytes beyond the file.
func (l *Linphone) Received() Audio {
	l.t.Helper()
	l.received++
	fixed := filepath.Join(l.Dir, fmt.Sprintf("received-%d.wav", l.received))
	var b []byte
	if !poll(Timeout, func() bool {
		var err error
		b, err = os.ReadFile(l.Record)
		// While recording the sizes are 0; at close the data size is written.
		return err == nil && len(b) > 44 && string(b[36:40]) == "data" && int(binary.LittleEndian.Uint32(b[40:44])) >= len(b)-44
	}) {
		l.fatalf("%s: recording %s not closed", l.Name, l.Record)
	}
	binary.LittleEndian.PutUint32(b[4:8], uint32(len(b)-8))
	binary.LittleEndian.PutUint32(b[40:44], uint32(len(b)-44))
	if err := os.WriteFile(fixed, b, 0o644); err != nil {
		l.fatalf("%s: %v", l.Name, err)
	}
	return waitWAV(l.Proc, fixed)
}
