package srtpdec_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/zaf/g711"

	"spanrec/media/srtpdec"
	"spanrec/media/srtpdec/srtptest"
)

// ffmpegSRTP has ffmpeg (libavformat's own SRTP, an encoder independent of
// pion) send seconds of a 440 Hz tone as G.711 µ-law SRTP, 160 samples per
// packet, from sequence number firstSeq, to a loopback UDP socket of the
// test, and returns the first want datagrams in arrival order.
func ffmpegSRTP(t *testing.T, suite string, key srtpdec.Key, seconds int, firstSeq uint16, want int) [][]byte {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed (Debian package ffmpeg): no independent SRTP encoder")
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadBuffer(4 << 20)

	type result struct {
		packets [][]byte
		err     error
	}
	got := make(chan result, 1)
	go func() {
		var r result
		buf := make([]byte, 2048)
		for len(r.packets) < want {
			n, err := conn.Read(buf)
			if err != nil {
				r.err = err
				break
			}
			r.packets = append(r.packets, bytes.Clone(buf[:n]))
		}
		got <- r
	}()

	// ffmpeg paces its input at 8 times real time so that the reader is
	// never far behind. The timeouts only keep a broken run from hanging:
	// no result depends on how fast anything runs.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	port := conn.LocalAddr().(*net.UDPAddr).Port
	cmd := exec.CommandContext(ctx, ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-readrate", "8",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000:samples_per_frame=160:duration="+strconv.Itoa(seconds),
		"-c:a", "pcm_mulaw", "-f", "rtp", "-packetsize", "172", "-seq", strconv.Itoa(int(firstSeq)),
		"-rtpflags", "skip_rtcp", "-srtp_out_suite", suite, "-srtp_out_params", srtptest.Inline(key),
		"srtp://127.0.0.1:"+strconv.Itoa(port))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	// Every datagram is queued on the socket once ffmpeg has exited; the
	// deadline ends the read only if some were lost.
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	r := <-got
	if r.err != nil {
		t.Fatalf("after %d of %d datagrams: %v", len(r.packets), want, r.err)
	}
	return r.packets
}

// TestFFmpeg decrypts SRTP made by ffmpeg, for the suites ffmpeg offers,
// across a sequence wrap, as captured and in a reordered, duplicated
// delivery; the audio is the tone ffmpeg was asked for. A byte flipped
// anywhere fails authentication.
func TestFFmpeg(t *testing.T) {
	const (
		seconds  = 4
		firstSeq = 65536 - 100 // wraps after two seconds
		rate     = 8000
	)
	for _, suite := range []string{"AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"} {
		t.Run(suite, func(t *testing.T) {
			key := srtptest.Key(suite, 0x44)
			packets := ffmpegSRTP(t, suite, key, seconds, firstSeq, seconds*rate/160)
			d, err := srtpdec.New(suite, []srtpdec.Key{key})
			if err != nil {
				t.Fatal(err)
			}
			var pcm []int16
			for i, p := range packets {
				plain, err := d.Decrypt(nil, p)
				if err != nil {
					t.Fatalf("packet %d of %d: %v", i, len(packets), err)
				}
				if seq := binary.BigEndian.Uint16(plain[2:]); seq != uint16(firstSeq+i) {
					t.Fatalf("packet %d has sequence number %d", i, seq)
				}
				if plain[1]&0x7F != 0 || len(plain) != 12+160 {
					t.Fatalf("packet %d: payload type %d, %d bytes", i, plain[1]&0x7F, len(plain))
				}
				for _, b := range plain[12:] {
					pcm = append(pcm, g711.DecodeUlawFrame(b))
				}
			}
			checkTone(t, pcm, rate, 440)

			// The same packets reordered around the wrap, with
			// duplicates, through a fresh Decryptor.
			d2, _ := srtpdec.New(suite, []srtpdec.Key{key})
			order := make([]int, 0, len(packets)+20)
			for i := range packets {
				order = append(order, i)
			}
			for i := 90; i < 110; i += 2 {
				order[i], order[i+1] = order[i+1], order[i]
			}
			order = append(order, 99, 100, 98, 101, 3)
			for _, i := range order {
				plain, err := d2.Decrypt(nil, packets[i])
				if err != nil {
					t.Fatalf("reordered packet %d: %v", i, err)
				}
				if seq := binary.BigEndian.Uint16(plain[2:]); seq != uint16(firstSeq+i) {
					t.Fatalf("reordered packet %d has sequence number %d", i, seq)
				}
			}

			// One byte flipped, anywhere: header, payload or tag.
			p := packets[len(packets)/2]
			for i := range p {
				f := bytes.Clone(p)
				f[i] ^= 0x5A
				if _, err := d.Decrypt(nil, f); err == nil {
					t.Fatalf("byte %d flipped: accepted", i)
				} else if i >= 12 && err != srtpdec.ErrAuth {
					t.Fatalf("byte %d flipped: %v, want ErrAuth", i, err)
				}
			}
		})
	}
}

// checkTone checks that pcm is a steady tone of freq Hz: its zero
// crossings give the frequency within 1%, and Goertzel puts nearly all of
// the signal's energy in that bin.
func checkTone(t *testing.T, pcm []int16, rate, freq float64) {
	t.Helper()
	crossings := 0
	var energy float64
	for i, s := range pcm {
		energy += float64(s) * float64(s)
		if i > 0 && (pcm[i-1] < 0) != (s < 0) {
			crossings++
		}
	}
	if energy == 0 {
		t.Fatal("silence")
	}
	est := float64(crossings) / 2 / (float64(len(pcm)) / rate)
	if math.Abs(est-freq) > freq/100 {
		t.Errorf("zero crossings give %.1f Hz, want %.0f", est, freq)
	}
	// Goertzel power at freq, normalised so that a pure tone gives ~1.
	w := 2 * math.Pi * freq / rate
	var s1, s2 float64
	for _, s := range pcm {
		s1, s2 = float64(s)+2*math.Cos(w)*s1-s2, s1
	}
	power := s1*s1 + s2*s2 - 2*math.Cos(w)*s1*s2
	if ratio := 2 * power / (float64(len(pcm)) * energy); ratio < 0.95 {
		t.Errorf("only %.2f of the energy at %.0f Hz", ratio, freq)
	}
}
