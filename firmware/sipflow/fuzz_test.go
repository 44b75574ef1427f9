package sipflow

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"spanrec/firmware/capture"
)

// fuzzSeeds are real messages (sipp, see message_test.go) and a few odd ones.
func fuzzSeeds() []string {
	raw, _ := multipartInvite("application/sdp")
	return []string{
		realInvite, realRinging, realBye, raw,
		strings.Replace(realInvite, "Content-Length:   198", "l: 198", 1),
		"SIP/2.0 100 Trying\r\ni: x\r\nCSeq: 1 INVITE\r\nf: <sip:a@b>\r\nt: <sip:c@d>\r\n\r\n",
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrMissingHeader) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		if m.IsRequest == (m.StatusCode != 0) {
			t.Fatalf("IsRequest %v with status %d", m.IsRequest, m.StatusCode)
		}
		_ = m.Header("Via")
		_ = m.Headers("m")
	})
}

// refLooksLikeSIP is a slow, obviously-correct LooksLikeSIP.
func refLooksLikeSIP(b []byte) bool {
	s := string(b)
	if len(s) > maxStartLine {
		s = s[:maxStartLine]
		if !strings.Contains(s, "\n") {
			return false
		}
	}
	line, _, _ := strings.Cut(s, "\n")
	line = strings.TrimSuffix(line, "\r")
	if rest, ok := strings.CutPrefix(line, "SIP/2.0 "); ok {
		if len(rest) < 3 || rest[0] < '1' || rest[0] > '6' || !isDigit(rest[1]) || !isDigit(rest[2]) {
			return false
		}
		return len(rest) == 3 || rest[3] == ' ' || rest[3] == '\r'
	}
	f := strings.Split(line, " ")
	if len(f) != 3 || f[2] != "SIP/2.0" || f[1] == "" || len(f[0]) == 0 || len(f[0]) > maxMethod {
		return false
	}
	for _, c := range []byte(f[0]) {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	// The Request-URI is one token (no space: Split saw to that); other
	// control bytes are garbage inside a real request (a NUL in an
	// IP-DECT gateway's URI), which is still followed.
	return true
}

func FuzzLooksLikeSIP(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Add(rtpPayload)
	f.Add([]byte("SIP/2.0 200\rX"))
	f.Add([]byte("FOO x SIP/2.0"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, want := LooksLikeSIP(b), refLooksLikeSIP(b)
		if got != want {
			t.Fatalf("LooksLikeSIP(%q) = %v, reference says %v", b, got, want)
		}
	})
}

// FuzzTCPAssembler cuts a byte stream into segments of fuzz-chosen lengths,
// reorders and duplicates some, and checks that every emitted message is a
// contiguous piece of the stream starting with a SIP start line and that no
// more bytes come out than went in.
func FuzzTCPAssembler(f *testing.F) {
	seeds := fuzzSeeds()
	all := strings.Join(seeds, "\r\n\r\n")
	f.Add([]byte(all), []byte{100, 7, 200, 1}, []byte{3, 0x81, 5})
	f.Add([]byte(realInvite+realBye), []byte{255}, []byte{})
	f.Add([]byte(realRinging+"garbage\r\n"+realBye), []byte{10, 20, 30}, []byte{2, 2, 2, 0x80})
	f.Fuzz(func(t *testing.T, stream, cuts, shuffle []byte) {
		const maxStream = 16000 // stays inside the assembler's jump window
		if len(stream) > maxStream {
			stream = stream[:maxStream]
		}
		type seg struct {
			off  int
			data []byte
		}
		var segs []seg
		for off, i := 0, 0; off < len(stream); i++ {
			n := len(stream) - off
			if len(cuts) > 0 {
				n = min(n, int(cuts[i%len(cuts)])*4+1)
			}
			segs = append(segs, seg{off, stream[off : off+n]})
			off += n
		}
		for _, c := range shuffle {
			if len(segs) < 2 {
				break
			}
			i := int(c&0x7f) % (len(segs) - 1)
			if c&0x80 != 0 {
				segs = append(segs, segs[i]) // duplicate, delivered late
			} else {
				segs[i], segs[i+1] = segs[i+1], segs[i]
			}
		}
		a := NewTCPAssembler(TCPLimits{MaxBuffer: 4096, MaxPending: 4})
		const isn = 0xffffff00
		var fed, emitted int
		emit := func(raw []byte) {
			emitted += len(raw)
			if !LooksLikeSIP(raw) {
				t.Fatalf("emitted a message that does not start with a SIP start line: %.60q", raw)
			}
			if !bytes.Contains(stream, raw) {
				t.Fatalf("emitted bytes that are not a contiguous piece of the stream: %.60q", raw)
			}
		}
		p := capture.Packet{Transport: capture.TCP, Src: tcpA, Dst: tcpB}
		if len(shuffle)%2 == 1 {
			p.Seq, p.Flags = isn-1, capture.FlagSYN
			a.Feed(&p, emit)
		}
		for i, s := range segs {
			p.Seq, p.Payload, p.Flags = isn+uint32(s.off), s.data, capture.FlagACK
			if i == len(segs)-1 && len(cuts)%2 == 1 {
				p.Flags |= capture.FlagFIN
			}
			fed += len(s.data)
			a.Feed(&p, emit)
		}
		a.Tick(p.Time.Add(DefaultGapTimeout), emit)
		if emitted > len(stream) || emitted > fed {
			t.Fatalf("emitted %d bytes of a %d-byte stream (%d fed)", emitted, len(stream), fed)
		}
	})
}
