package labtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// BaresipConfig describes one baresip user agent.
type BaresipConfig struct {
	// User is the SIP user, e.g. "alice".
	User string
	// Name names the peer's log and config dir; "" means User. Two agents
	// of one user (a forking test) need different names.
	Name string
	// Proxy is the registrar and outbound proxy; nil means no registration,
	// the agent is reached at its host's address.
	Proxy *Kamailio
	// Transport is "udp" (the default) or "tcp", for registration and calls.
	Transport string
	// Codecs is the account's audio_codecs, in order of preference, as
	// baresip lists them: "PCMU/8000/1", "PCMA/8000/1", "G722/16000/1"
	// (not G722 alone: that means 8000 Hz, which G.722 is only on the
	// wire), "opus/48000/2". The modules they need are loaded; a name
	// baresip does not know fails the test. nil means PCMU and PCMA, what
	// Debian's g711.so gives.
	Codecs []string
	// SRTP loads srtp.so and sets mediaenc=srtp-mand (SDES keys in the SDP).
	SRTP bool
	// AutoAnswer sets answermode=auto; otherwise calls ring until Answer.
	AutoAnswer bool
	// Audio is the source file; the zero value means Speech of SpeechText(User)
	// at the first codec's rate. The agent resamples if the call uses
	// another rate.
	Audio Audio
	// Extra are more lines for the config file, e.g. "jitter_buffer_delay 1-5".
	Extra []string
}

// Baresip is a running baresip: commands go to its cons module over UDP
// inside its namespace, events are read from its output (-v).
type Baresip struct {
	*Proc
	Host     *Host
	Config   BaresipConfig
	Dir      string // config dir (-f); sndfile dumps land here too
	SIPPort  int
	RTP      [2]int // rtp_ports range
	consPort int
	played   Audio
	cons     net.Conn
	re       baresipEvents
}

type baresipEvents struct {
	registered, incoming, established, closed, dtmf, answer *regexp.Regexp
}

// baresip's module dir on Debian.
var baresipModules = "/usr/lib/baresip/modules"

// StartBaresip writes the config dir, starts baresip on h and waits until
// it is ready and its SIP and cons ports are bound (not until it has
// registered: see WaitRegistered). It skips the test when baresip or one
// of the modules is not installed.
func StartBaresip(t testing.TB, h *Host, cfg BaresipConfig) *Baresip {
	t.Helper()
	bin, err := exec.LookPath("baresip")
	if err != nil {
		t.Skipf("labtest: baresip not installed (Debian: baresip): %v", err)
	}
	cfg.defaults(t)
	modules := cfg.modules()
	for _, m := range modules {
		if _, err := os.Stat(filepath.Join(baresipModules, m)); err != nil {
			t.Skipf("labtest: baresip module %s missing: %v", m, err)
		}
	}
	if cfg.Audio.Path == "" {
		rate, ch := codecRate(cfg.Codecs[0])
		cfg.Audio = Speech(t, cfg.User, SpeechText(cfg.User), rate, ch)
	}
	slot := h.slot()
	b := &Baresip{Host: h, Config: cfg, SIPPort: 5060 + 10*slot, RTP: [2]int{10000 + 1000*slot, 10999 + 1000*slot},
		consPort: 5555 + slot, played: cfg.Audio}
	b.Dir = h.sw.claim(cfg.Name)
	if err := os.WriteFile(filepath.Join(b.Dir, "config"), []byte(b.configFile(modules)), 0o644); err != nil {
		t.Fatalf("labtest: %v", err)
	}
	if err := os.WriteFile(filepath.Join(b.Dir, "accounts"), []byte(b.account()+"\n"), 0o644); err != nil {
		t.Fatalf("labtest: %v", err)
	}
	b.re = newBaresipEvents(b.aor(), cfg.AutoAnswer)

	b.Proc = startProc(t, h, cfg.Name, nil, bin, "-4", "-v", "-f", b.Dir)
	b.start(nil)
	b.Next(regexp.MustCompile(`^baresip is ready\.`))
	if b.Count(baresipNoCodec) > 0 {
		b.fatalf("%s: baresip does not know a codec of %v (names as it lists them: PCMU/8000/1, G722/16000/1, opus/48000/2)", b.Name, cfg.Codecs)
	}
	b.WaitListening("udp", b.SIPPort)
	b.WaitListening("udp", b.consPort)
	b.cons, err = h.DialIn("udp", fmt.Sprintf("127.0.0.1:%d", b.consPort))
	if err != nil {
		b.fatalf("%s: cons socket: %v", b.Name, err)
	}
	t.Cleanup(func() { b.cons.Close() })
	go func() { // replies to commands: baresip prints them on stdout too
		buf := make([]byte, 64*1024)
		for {
			if _, err := b.cons.Read(buf); err != nil {
				return
			}
		}
	}()
	return b
}

func (c *BaresipConfig) defaults(t testing.TB) {
	t.Helper()
	if c.User == "" {
		t.Fatal("labtest: BaresipConfig.User is empty")
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
	if len(c.Codecs) == 0 {
		c.Codecs = []string{"PCMU/8000/1", "PCMA/8000/1"}
	}
}

// modules are the baresip modules the agent loads, in order (the codec
// modules' order is baresip's preference where audio_codecs does not say).
func (c *BaresipConfig) modules() []string {
	modules := []string{"cons.so", "g711.so"}
	for _, codec := range c.Codecs {
		if m := codecModule(codec); m != "" && !slices.Contains(modules, m) {
			modules = append(modules, m)
		}
	}
	modules = append(modules, "aufile.so", "sndfile.so", "alsa.so")
	if c.SRTP {
		modules = append(modules, "srtp.so")
	}
	return modules
}

// configFile is baresip's config: no audio device (alsa's null PCM), the
// source a WAV file at its own rate (baresip resamples to the codec's),
// sndfile dumping what is encoded and decoded, RTP statistics at the end of
// each call, commands on the cons port.
func (b *Baresip) configFile(modules []string) string {
	a := b.Config.Audio
	conf := []string{
		"poll_method epoll",
		fmt.Sprintf("sip_listen %s:%d", b.Host.Addr, b.SIPPort),
		"call_local_timeout 120",
		"call_max_calls 4",
		"audio_player alsa,null",
		"audio_alert alsa,null",
		"audio_source aufile," + a.Path,
		fmt.Sprintf("ausrc_srate %d", a.Rate),
		fmt.Sprintf("ausrc_channels %d", a.Channels),
		"audio_level no",
		"ausrc_format s16",
		"auplay_format s16",
		"auenc_format s16",
		"audec_format s16",
		fmt.Sprintf("rtp_ports %d-%d", b.RTP[0], b.RTP[1]),
		"rtp_stats yes",
		"rtcp_mux no",
		"jitter_buffer_delay 5-10",
		"statmode_default off", // no status line redrawn every few ms
		"module_path " + baresipModules,
	}
	for _, m := range modules {
		conf = append(conf, "module "+m)
	}
	conf = append(conf,
		"module_tmp account.so",
		"module_app menu.so", // the commands: /dial, /hold, /sndcode ...
		fmt.Sprintf("cons_listen 127.0.0.1:%d", b.consPort),
		"snd_path "+b.Dir,
	)
	return strings.Join(append(conf, b.Config.Extra...), "\n") + "\n"
}

func newBaresipEvents(aor string, autoAnswer bool) baresipEvents {
	e := baresipEvents{
		registered:  regexp.MustCompile(`^` + regexp.QuoteMeta(strings.TrimPrefix(aor, "sip:")) + `: \{\d+/(UDP|TCP)/v4\} 200 OK`),
		established: regexp.MustCompile(`: Call established: (\S+)`),
		// Once per call, answered or not, whoever ends it: "Call with X
		// terminated" is missing for a call cancelled while ringing.
		closed: regexp.MustCompile(`^audio: destroyed \(started=\d\)`),
		dtmf:   regexp.MustCompile(`(?:received event: '(.)' \(end=1\)|call: received DTMF: '(.)')`),
		answer: regexp.MustCompile(`^call: got SDP answer`),
		// "NAME: Incoming call from: DISPLAYNAME URI - (press 'a' to accept)"
		incoming: regexp.MustCompile(`Incoming call from: .*?(sips?:\S+) - \(press`),
	}
	if autoAnswer { // no prompt then
		e.incoming = regexp.MustCompile(`call: answering call on line \d+ from (\S+)`)
	}
	return e
}

// aor is the address of record: at the proxy's domain, or at the host.
func (b *Baresip) aor() string {
	if b.Config.Proxy != nil {
		return b.Config.Proxy.AOR(b.Config.User)
	}
	return fmt.Sprintf("sip:%s@%s:%d", b.Config.User, b.Host.Addr, b.SIPPort)
}

// account is the line of the accounts file.
func (b *Baresip) account() string {
	c := b.Config
	uri := b.aor()
	if c.Transport == "tcp" {
		uri += ";transport=tcp"
	}
	acc := "<" + uri + ">"
	if k := c.Proxy; k != nil {
		if k.Password != "" {
			acc += ";auth_pass=" + k.Password
		}
		acc += fmt.Sprintf(";outbound1=\"sip:%s:%d;transport=%s\";regint=300", k.Domain(), k.Port, c.Transport)
	} else {
		acc += ";regint=0"
	}
	acc += ";audio_codecs=" + strings.Join(c.Codecs, ",")
	if c.SRTP {
		acc += ";mediaenc=srtp-mand"
	}
	if c.AutoAnswer {
		acc += ";answermode=auto"
	} else {
		acc += ";answermode=manual"
	}
	return acc
}

// codecModule is the baresip module that provides an audio codec.
func codecModule(codec string) string {
	name := strings.ToLower(strings.SplitN(codec, "/", 2)[0])
	switch {
	case name == "pcmu" || name == "pcma":
		return "g711.so"
	case name == "opus", name == "g722", name == "gsm", name == "l16":
		return name + ".so"
	case strings.HasPrefix(name, "g726"):
		return "g726.so"
	}
	return ""
}

// codecRate is the sample rate and channel count an audio source must have
// for a codec (baresip's aufile refuses others unless it resamples).
func codecRate(codec string) (rate, channels int) {
	f := strings.Split(codec, "/")
	switch strings.ToLower(f[0]) {
	case "opus":
		return 48000, 2
	case "g722":
		return 16000, 1
	}
	rate, channels = 8000, 1
	if len(f) > 1 {
		if r, err := strconv.Atoi(f[1]); err == nil {
			rate = r
		}
	}
	if len(f) > 2 {
		if c, err := strconv.Atoi(f[2]); err == nil {
			channels = c
		}
	}
	return rate, channels
}

// Send sends one command line to the cons module, e.g. "/dial sip:bob@...".
func (b *Baresip) Send(command string) {
	b.t.Helper()
	b.note("labtest> %s", command)
	if _, err := b.cons.Write([]byte(command + "\n")); err != nil {
		b.fatalf("%s: send %q: %v", b.Name, command, err)
	}
}

// URI is where this agent is called: its AOR at the proxy, or its host
// address and port.
func (b *Baresip) URI() string {
	if b.Config.Proxy == nil && b.Config.Transport == "tcp" {
		return b.aor() + ";transport=tcp"
	}
	return b.aor()
}

// Dial calls uri.
func (b *Baresip) Dial(uri string) { b.t.Helper(); b.Send("/dial " + uri) }

// Answer accepts the ringing call.
func (b *Baresip) Answer() { b.t.Helper(); b.Send("/accept") }

// Hangup ends (or cancels, or rejects) the current call.
func (b *Baresip) Hangup() { b.t.Helper(); b.Send("/hangup") }

// Hold puts the current call on hold (a re-INVITE with a=sendonly) and waits
// for the answer to it.
func (b *Baresip) Hold() { b.t.Helper(); b.modify("/hold") }

// Resume takes the call off hold (a re-INVITE with a=sendrecv) and waits
// for the answer to it.
func (b *Baresip) Resume() { b.t.Helper(); b.modify("/resume") }

func (b *Baresip) modify(command string) {
	b.t.Helper()
	mark := b.Mark()
	b.Send(command)
	b.After(mark, b.re.answer)
}

// SendDTMF sends digits as RFC 4733 telephone events (/sndcode).
func (b *Baresip) SendDTMF(digits string) { b.t.Helper(); b.Send("/sndcode " + digits) }

// WaitRegistered waits for the next 200 OK to its REGISTER.
func (b *Baresip) WaitRegistered() { b.t.Helper(); b.Next(b.re.registered) }

// WaitIncoming waits for the next incoming call and returns the caller's URI.
func (b *Baresip) WaitIncoming() string { b.t.Helper(); return b.Next(b.re.incoming)[1] }

// WaitEstablished waits for the next established call and returns the
// peer's URI.
func (b *Baresip) WaitEstablished() string { b.t.Helper(); return b.Next(b.re.established)[1] }

// WaitClosed waits for the next call to end, whoever ended it (cancelled
// while ringing too), and returns the peer's URI.
func (b *Baresip) WaitClosed() string {
	b.t.Helper()
	i := b.nextIndex(b.re.closed)
	lines := b.Lines()
	for ; i >= 0; i-- {
		if m := baresipPeer.FindStringSubmatch(lines[i]); m != nil {
			return m[1] + m[2] + m[3]
		}
	}
	return ""
}

// baresipPeer are the lines before "audio: destroyed" that name the peer.
var baresipPeer = regexp.MustCompile(`: Call with (\S+) terminated|^(\S+): session closed: |^call: terminate call '\S+' with (\S+)`)

// WaitDTMF waits for the next digit received, as RFC 4733 event (counted at
// its end packet) or SIP INFO.
func (b *Baresip) WaitDTMF() string {
	b.t.Helper()
	m := b.Next(b.re.dtmf)
	return m[1] + m[2]
}

// Played is the audio file its source plays.
func (b *Baresip) Played() Audio { return b.played }

var (
	baresipNoCodec = regexp.MustCompile(`account: audio codec not found`)
	baresipDec     = regexp.MustCompile(`sndfile: dumping decode audio to (\S+)`)
	baresipEnc     = regexp.MustCompile(`sndfile: dumping encode audio to (\S+)`)
)

// Received is what it decoded in its last call (sndfile's -dec dump), once
// the file is complete, which is after the call closed. The dump ends at
// the first re-INVITE the agent answers (baresip 1.0 does not write it
// after the stream update), so talk before holding to have some.
func (b *Baresip) Received() Audio {
	b.t.Helper()
	return waitWAV(b.Proc, b.lastMatch(baresipDec))
}

// Sent is what it encoded in its last call (sndfile's -enc dump): the
// played file from where the call started, resampled if the codec asked.
func (b *Baresip) Sent() Audio {
	b.t.Helper()
	return waitWAV(b.Proc, b.lastMatch(baresipEnc))
}

func (b *Baresip) lastMatch(re *regexp.Regexp) string {
	b.t.Helper()
	lines := b.Lines()
	for i := len(lines) - 1; i >= 0; i-- {
		if m := re.FindStringSubmatch(lines[i]); m != nil {
			return m[1]
		}
	}
	b.fatalf("%s: no line matching %q: no call had audio", b.Name, re)
	return ""
}

var baresipPackets = regexp.MustCompile(`^packets:\s+(\d+)\s+(\d+)$`)

// RTPCounts waits for the RTP statistics baresip prints when a call's audio
// ends (rtp_stats) and returns its packet counts: the next call's at each
// call.
func (b *Baresip) RTPCounts() (sent, received int) {
	b.t.Helper()
	m := b.Next(baresipPackets)
	sent, _ = strconv.Atoi(m[1])
	received, _ = strconv.Atoi(m[2])
	return sent, received
}
