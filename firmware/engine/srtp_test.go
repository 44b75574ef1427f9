package engine

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/index"
	"spanrec/media/sign"
)

// srtpCall is the base call of these tests, with both sides sending SRTP
// under their own SDES key.
func srtpCall(t *testing.T, suite string) simcall.Call {
	caller, callee := testAudio(t, false)
	return simcall.Call{CallerAudio: caller, CalleeAudio: callee, Start: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC),
		CallerCrypto: &simcall.Crypto{Suite: suite, Seed: 1}, CalleeCrypto: &simcall.Crypto{Suite: suite, Seed: 2}}
}

// record imports the calls and returns the index entries, the data
// directory and everything the engine logged.
func record(t *testing.T, calls []simcall.Call, extra ...simcall.Packet) ([]*index.Call, string, []*simcall.Result, string) {
	t.Helper()
	var res []*simcall.Result
	merged := &simcall.Result{}
	for _, c := range calls {
		r := simcall.Generate(c, simcall.Options{})
		res = append(res, r)
		merged.Packets = append(merged.Packets, r.Packets...)
	}
	merged.Packets = append(merged.Packets, extra...)
	sortPackets(merged.Packets)
	path := filepath.Join(t.TempDir(), "srtp.pcap")
	writeResult(t, path, merged)
	var logs bytes.Buffer
	data := t.TempDir()
	got := importFiles(t, data, Options{Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}, path)
	return got, data, res, logs.String()
}

// inlineKeys are the base64 keys of every a=crypto line in the capture.
var inlineKey = regexp.MustCompile(`inline:([A-Za-z0-9+/=]+)`)

// noKeys asserts no SDES key of calls appears in any file of the data
// directory (recordings, raw media, index) nor in the log.
func noKeys(t *testing.T, data, logs string, res []*simcall.Result) {
	t.Helper()
	var keys []string
	for _, r := range res {
		for _, p := range r.Packets {
			for _, m := range inlineKey.FindAllStringSubmatch(string(p.Payload), -1) {
				keys = append(keys, m[1])
			}
		}
	}
	if len(keys) == 0 {
		t.Fatal("no keys in the capture")
	}
	filepath.Walk(data, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(p)
		for _, k := range keys {
			if bytes.Contains(b, []byte(k)) {
				t.Errorf("SDES key %s… in %s", k[:6], p)
			}
		}
		return nil
	})
	for _, k := range keys {
		if strings.Contains(logs, k) {
			t.Errorf("SDES key %s… in the log", k[:6])
		}
	}
}

// writeResult writes a generated capture as pcap.
func writeResult(t *testing.T, path string, r *simcall.Result) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := capture.NewPcapWriter(f, simcall.Options{}.Frame.LinkType())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.WriteTo(w, simcall.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

func hasFlag(c *index.Call, f string) bool { return slices.Contains(c.Flags, f) }

// Every SDES suite real phones offer is decrypted: the audio is the
// audio, on the right sides.
func TestSRTPSuites(t *testing.T) {
	for _, suite := range []string{"AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", "AES_256_CM_HMAC_SHA1_80",
		"AES_256_CM_HMAC_SHA1_32", "AEAD_AES_128_GCM", "AEAD_AES_256_GCM"} {
		t.Run(suite, func(t *testing.T) {
			call := srtpCall(t, suite)
			got, data, res, logs := record(t, []simcall.Call{call})
			c := one(t, got)
			if !c.Recorded || c.Raw() || c.RawID != "" || c.SampleRate != 8000 || len(c.Flags) != 0 {
				t.Fatalf("entry %+v", c)
			}
			checkAudio(t, data, c, res[0], call.CallerAudio, call.CalleeAudio, false, 0.99)
			noKeys(t, data, logs, res)
		})
	}
}

// Keys with MKIs, and a re-INVITE that changes both sides' keys mid-call:
// nothing of the audio is lost around the change.
func TestSRTPMKIAndRekey(t *testing.T) {
	call := srtpCall(t, "AES_CM_128_HMAC_SHA1_80")
	call.CallerCrypto.MKI = []byte{0, 0, 0, 1}
	call.CalleeCrypto.MKI = []byte{0, 0, 0, 7}
	call.RekeyAt = 3 * time.Second
	got, data, res, logs := record(t, []simcall.Call{call})
	c := one(t, got)
	if !c.Recorded || c.Raw() || len(c.Flags) != 0 {
		t.Fatalf("entry %+v", c)
	}
	for _, s := range c.Streams {
		if s.Lost != 0 {
			t.Errorf("%s: %d lost around the key change", s.Side, s.Lost)
		}
	}
	checkAudio(t, data, c, res[0], call.CallerAudio, call.CalleeAudio, false, 0.99)
	noKeys(t, data, logs, res)
}

// SRTP that does not authenticate with the key the SDP gave is counted,
// never placed as audio, and kept raw; the other side is recorded.
func TestSRTPWrongKey(t *testing.T) {
	call := srtpCall(t, "AES_CM_128_HMAC_SHA1_80")
	wrong := *call.CalleeCrypto
	wrong.Seed = 99
	call.EditSDP = func(caller bool, sdp string) string {
		if caller {
			return sdp
		}
		// The callee announces one key and sends with another.
		return inlineKey.ReplaceAllString(sdp, "inline:"+strings.TrimPrefix(inlineKey.FindString(wrongSDP(t, wrong)), "inline:"))
	}
	got, data, res, _ := record(t, []simcall.Call{call})
	if len(got) != 2 {
		t.Fatalf("%d entries, want the audio and the raw media", len(got))
	}
	c, raw := got[0], got[1]
	if c.Raw() {
		c, raw = raw, c
	}
	if !hasFlag(c, "encrypted:callee-srtp-authentication-failed") || c.RawID != raw.ID || !raw.Raw() || raw.Codec != "SRTP" {
		t.Fatalf("entries %+v\n%+v", c, raw)
	}
	checkAudio(t, data, c, res[0], call.CallerAudio, nil, false, 0.99)
	p := readRecording(t, data, c)
	if e := energy(channel(p, 1)); e != 0 {
		t.Errorf("the callee's undecryptable SRTP reached the WAV (energy %g)", e)
	}
	if n := rawMedia(t, data, raw); n != res[0].CalleeFrames {
		t.Errorf("raw media holds %d packets, the callee sent %d", n, res[0].CalleeFrames)
	}
}

func wrongSDP(t *testing.T, k simcall.Crypto) string {
	c := simcall.Call{CallerCrypto: &k}
	r := simcall.Generate(c, simcall.Options{})
	return string(r.Packets[0].Payload)
}

func energy(x []float64) float64 {
	e := 0.0
	for _, v := range x {
		e += v * v
	}
	return e
}

// rawMedia checks a raw media entry's file (signed, readable) and returns
// how many of its datagrams are not SIP.
func rawMedia(t *testing.T, data string, c *index.Call) int {
	t.Helper()
	path := filepath.Join(data, filepath.FromSlash(c.File))
	if err := sign.VerifyFile(path, nil); err != nil {
		t.Fatal(err)
	}
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dec := capture.NewDecoder(capture.DecoderConfig{})
	var f capture.Frame
	var p capture.Packet
	n := 0
	for src.ReadFrame(&f) == nil {
		if dec.Decode(&f, &p) && !bytes.HasPrefix(p.Payload, []byte("SIP/2.0")) && !bytes.Contains(p.Payload[:min(len(p.Payload), 64)], []byte(" SIP/2.0\r\n")) {
			n++
		}
	}
	return n
}

// Encryption the recorder has no keys for: nothing is written as audio,
// the call is flagged with the reason and its media kept raw.
func TestUnreadableEncryption(t *testing.T) {
	dtls := func(caller bool, sdp string) string {
		sdp = strings.Replace(sdp, "RTP/SAVP", "UDP/TLS/RTP/SAVP", 1)
		return inlineKey.ReplaceAllString(strings.Replace(sdp, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 ", "a=fingerprint:sha-256 ", 1), "4A:AD:B9:B1:3F:82:18:3B")
	}
	noKeysSDP := func(caller bool, sdp string) string {
		return regexp.MustCompile(`a=crypto:[^\r]*\r\n`).ReplaceAllString(sdp, "")
	}
	plainProfile := func(caller bool, sdp string) string {
		return strings.Replace(noKeysSDP(caller, sdp), "RTP/SAVP", "RTP/AVP", 1)
	}
	for _, tc := range []struct {
		name string
		edit func(bool, string) string
		zrtp bool
		flag string
	}{
		{"dtls-srtp", dtls, false, "encrypted:dtls-srtp"},
		{"savp-without-keys", noKeysSDP, false, "encrypted:srtp-without-keys"},
		{"zrtp", plainProfile, true, "encrypted:zrtp"},
		{"random-payload", plainProfile, false, "encrypted:caller-payload-random"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			call := srtpCall(t, "AES_CM_128_HMAC_SHA1_80")
			call.EditSDP = tc.edit
			var extra []simcall.Packet
			if tc.zrtp {
				call.CallerRTP, call.CalleeRTP = netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:30000")
				answer := call.Start.Add(500 * time.Millisecond) // the default ring time
				extra = append(extra,
					simcall.Packet{Time: answer.Add(2 * time.Millisecond), Src: call.CallerRTP, Dst: call.CalleeRTP, Payload: zrtpHello(1)},
					simcall.Packet{Time: answer.Add(3 * time.Millisecond), Src: call.CalleeRTP, Dst: call.CallerRTP, Payload: zrtpHello(1)})
			}
			got, data, res, _ := record(t, []simcall.Call{call}, extra...)
			c := one(t, got)
			if !c.Recorded || !c.Raw() || c.RawOf != "" || !hasFlag(c, tc.flag) || c.SampleRate != 0 {
				t.Fatalf("entry %+v", c)
			}
			if wavs, _ := filepath.Glob(filepath.Join(data, "recordings", "*", "*", "*", "*.wav")); len(wavs) != 0 {
				t.Fatalf("a WAV pretends to hold encrypted audio: %v", wavs)
			}
			if n, want := rawMedia(t, data, c), res[0].CallerFrames+res[0].CalleeFrames; n < want {
				t.Errorf("raw media holds %d packets of %d", n, want)
			}
			if !strings.Contains(c.RawWarning(), "encrypted") {
				t.Errorf("warning %q", c.RawWarning())
			}
		})
	}
}

// zrtpHello is a ZRTP packet (RFC 6189 §5): version bits 0, the magic
// cookie, a Hello message.
func zrtpHello(seq uint16) []byte {
	b := []byte{0x10, 0, 0, 0, 'Z', 'R', 'T', 'P', 0, 0, 0, 1, 0x50, 0x5a, 0, 22}
	binary.BigEndian.PutUint16(b[2:], seq)
	b = append(b, "Hello   1.10"...)
	return append(b, make([]byte, 72)...)
}

// The last guard: G.711 whose payload is random bytes (SRTP the recorder
// was not told about) is taken back and kept raw; the other side is
// recorded as usual.
func TestEntropyGuard(t *testing.T) {
	caller, callee := testAudio(t, false)
	random := make([][]byte, 400)
	for i := range random {
		random[i] = make([]byte, 160)
		rand.Read(random[i])
	}
	call := simcall.Call{CallerPayloads: random, CalleeAudio: callee, Start: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	got, data, res, _ := record(t, []simcall.Call{call})
	if len(got) != 2 {
		t.Fatalf("%d entries", len(got))
	}
	c, raw := got[0], got[1]
	if c.Raw() {
		c, raw = raw, c
	}
	if !hasFlag(c, "encrypted:caller-payload-random") || !raw.Raw() || raw.RawOf != c.ID {
		t.Fatalf("entries %+v\n%+v", c, raw)
	}
	p := readRecording(t, data, c)
	if e := energy(channel(p, 0)); e != 0 {
		t.Errorf("random payload reached the WAV (energy %g)", e)
	}
	checkAudio(t, data, c, res[0], nil, callee, false, 0.99)
	if n := rawMedia(t, data, raw); n != res[0].CallerFrames {
		t.Errorf("raw media holds %d of the caller's %d packets", n, res[0].CallerFrames)
	}
	// Speech is never taken for encryption.
	call = simcall.Call{CallerAudio: caller, CalleeAudio: callee, Start: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	got, _, _, _ = record(t, []simcall.Call{call})
	if c := one(t, got); c.Raw() || len(c.Flags) != 0 {
		t.Fatalf("speech: %+v", c)
	}
}

// A codec that is not decoded, sent as SRTP: its packets are kept
// decrypted, and the kept SDP says RTP/AVP (so Wireshark plays them)
// without any key.
func TestSRTPRawKeptDecrypted(t *testing.T) {
	call := srtpCall(t, "AES_CM_128_HMAC_SHA1_80")
	call.PT = 18
	got, data, res, logs := record(t, []simcall.Call{call})
	c := one(t, got)
	if !c.Raw() || c.Codec != "G729" {
		t.Fatalf("entry %+v", c)
	}
	b, err := os.ReadFile(filepath.Join(data, filepath.FromSlash(c.File)))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("a=crypto")) || !bytes.Contains(b, []byte("RTP/AVP 18")) || bytes.Contains(b, []byte("RTP/SAVP")) {
		t.Error("kept SDP still describes SRTP")
	}
	// The kept packets are the plain RTP: their payloads are the audio sent.
	src, _ := capture.OpenFile(filepath.Join(data, filepath.FromSlash(c.File)))
	defer src.Close()
	dec := capture.NewDecoder(capture.DecoderConfig{})
	var f capture.Frame
	var p capture.Packet
	media := 0
	for src.ReadFrame(&f) == nil {
		if dec.Decode(&f, &p) && p.Payload[0] == 0x80 {
			media++
			if pl := p.Payload[12:]; !bytes.Contains(call.CallerAudio, pl) && !bytes.Contains(call.CalleeAudio, pl) {
				t.Fatalf("kept packet of %d bytes is not the audio sent: not decrypted", len(p.Payload))
			}
		}
	}
	if want := res[0].CallerFrames + res[0].CalleeFrames; media != want {
		t.Errorf("%d packets kept of %d", media, want)
	}
	noKeys(t, data, logs, res)
}

// SIP over TLS cannot be read: the media of its calls, to or from a host
// that speaks TLS on the SIP TLS port, is accounted for as a call of
// unknown parties, kept raw and flagged; media between other hosts is not.
func TestSIPOverTLSMediaKeptRaw(t *testing.T) {
	call := srtpCall(t, "AES_CM_128_HMAC_SHA1_80")
	call.CallerSIP, call.CalleeSIP = netip.MustParseAddrPort("10.0.0.1:5061"), netip.MustParseAddrPort("10.0.0.9:5061")
	call.CallerRTP, call.CalleeRTP = netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:30000")
	r := simcall.Generate(call, simcall.Options{})
	var pkts []simcall.Packet
	media := 0
	for _, p := range r.Packets {
		if p.RTP {
			pkts = append(pkts, p)
			media++
		}
	}
	// The phone's TLS connection to the PBX, before and during the call.
	phone, pbx := netip.MustParseAddrPort("10.0.0.1:51000"), netip.MustParseAddrPort("10.0.0.9:5061")
	for i, at := range []time.Duration{-time.Second, -900 * time.Millisecond, 4 * time.Second} {
		rec := append([]byte{23, 3, 3, 0, 64}, make([]byte, 64)...)
		rand.Read(rec[5:])
		src, dst := phone, pbx
		if i == 1 {
			src, dst = pbx, phone
		}
		pkts = append(pkts, simcall.Packet{Time: r.Answer.Add(at), Src: src, Dst: dst, TCP: true, Seq: uint32(1000 + 100*i), Flags: capture.FlagACK, Payload: rec})
	}
	// Strangers' RTP: no TLS host, no call.
	for i := range 50 {
		pkts = append(pkts, simcall.Packet{Time: r.Answer.Add(time.Duration(i) * 20 * time.Millisecond), Src: netip.MustParseAddrPort("10.0.0.7:4000"),
			Dst: netip.MustParseAddrPort("10.0.0.8:4000"), Payload: simcall.RTP(uint16(i), uint32(i*160), 7, 0, false, make([]byte, 160)), RTP: true})
	}
	got, data, _, _ := record(t, nil, pkts...)
	c := one(t, got)
	if !c.Recorded || !c.Raw() || !hasFlag(c, "encrypted:sip-tls") || c.CallerAddr != "10.0.0.1:40000" && c.CalleeAddr != "10.0.0.1:40000" {
		t.Fatalf("entry %+v", c)
	}
	if n := rawMedia(t, data, c); n != media {
		t.Errorf("raw media holds %d of the call's %d packets", n, media)
	}
	if !strings.Contains(c.RawWarning(), "sip-tls") {
		t.Errorf("warning %q", c.RawWarning())
	}
}

// A pause keeps speech out of the raw media too: a G.729 call paused by
// *1 has no media in its raw file from the code's last digit (what came
// between its first and last digit is already written: the code itself)
// to the resume.
func TestPauseKeepsRawMediaOut(t *testing.T) {
	caller, callee := testAudio(t, false)
	call := simcall.Call{PT: 18, CallerAudio: caller, CalleeAudio: callee, Start: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC),
		DTMF: []simcall.Press{{At: 2 * time.Second, Digits: "*1", Mode: simcall.SIPInfo}, {At: 5 * time.Second, Digits: "*1", Mode: simcall.SIPInfo}}}
	got, data, _, _ := record(t, []simcall.Call{call})
	c := one(t, got)
	if !c.Raw() || len(c.Pauses) != 1 {
		t.Fatalf("entry %+v", c)
	}
	from, to := c.Pauses[0].Start, c.Pauses[0].End
	digits := call.DTMF[0].DigitTimes(c.Answer)
	coded := digits[len(digits)-1]
	src, err := capture.OpenFile(filepath.Join(data, filepath.FromSlash(c.File)))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dec := capture.NewDecoder(capture.DecoderConfig{})
	var f capture.Frame
	var p capture.Packet
	before, after := 0, 0
	for src.ReadFrame(&f) == nil {
		if !dec.Decode(&f, &p) || p.Payload[0] != 0x80 {
			continue
		}
		switch {
		case f.Time.After(coded.Add(20*time.Millisecond)) && f.Time.Before(to.Add(-20*time.Millisecond)):
			t.Fatalf("media at %v kept during the pause %v-%v", f.Time, from, to)
		case f.Time.Before(from):
			before++
		default:
			after++
		}
	}
	if before == 0 || after == 0 {
		t.Errorf("media kept: %d before the pause, %d after", before, after)
	}
}
