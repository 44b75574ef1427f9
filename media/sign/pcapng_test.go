package sign

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// pcapng builds a small capture by hand in byte order bo: a section header
// with a comment, one raw-IP interface and n enhanced packet blocks.
func pcapng(bo byteOrder, n int) []byte {
	block := func(out []byte, typ uint32, body []byte) []byte {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		l := uint32(12 + len(body))
		out = bo.AppendUint32(out, typ)
		out = bo.AppendUint32(out, l)
		out = append(out, body...)
		return bo.AppendUint32(out, l)
	}
	option := func(out []byte, code uint16, v []byte) []byte {
		out = bo.AppendUint16(out, code)
		out = bo.AppendUint16(out, uint16(len(v)))
		out = append(out, v...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
		return out
	}
	var shb []byte
	shb = bo.AppendUint32(shb, pcapngByteMagic)
	shb = bo.AppendUint16(shb, 1)
	shb = bo.AppendUint16(shb, 0)
	shb = bo.AppendUint64(shb, ^uint64(0))
	shb = option(shb, 1, []byte("raw media of call test"))
	shb = option(shb, 0, nil)
	out := block(nil, pcapngSHB, shb)
	var idb []byte
	idb = bo.AppendUint16(idb, 101) // LINKTYPE_RAW
	idb = bo.AppendUint16(idb, 0)
	idb = bo.AppendUint32(idb, 0)
	idb = option(idb, 9, []byte{9}) // if_tsresol: ns
	idb = option(idb, 0, nil)
	out = block(out, 1, idb)
	for i := range n {
		pkt := []byte{0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
			0x9c, 0x40, 0x9c, 0x42, 0, 20, 0, 0, 0x80, 0x12, 0, byte(i), 0, 0, 0, byte(i), 1, 2, 3, 4}
		var epb []byte
		epb = bo.AppendUint32(epb, 0)
		ts := uint64(1_700_000_000_000_000_000) + uint64(i)*20_000_000
		epb = bo.AppendUint32(epb, uint32(ts>>32))
		epb = bo.AppendUint32(epb, uint32(ts))
		epb = bo.AppendUint32(epb, uint32(len(pkt)))
		epb = bo.AppendUint32(epb, uint32(len(pkt)))
		epb = append(epb, pkt...)
		out = block(out, 6, epb)
	}
	return out
}

func signPcapng(t testing.TB, bo byteOrder, n int, priv ed25519.PrivateKey) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "call.pcapng")
	if err := os.WriteFile(path, pcapng(bo, n), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, size, err := Append(f, priv)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != size || sha256.Sum256(b) != sum {
		t.Fatalf("Append returned size %d sum %x; file has %d bytes, sum %x", size, sum, len(b), sha256.Sum256(b))
	}
	return path, b
}

func TestPcapngSignAndVerify(t *testing.T) {
	priv := testKey(21)
	pub := priv.Public().(ed25519.PublicKey)
	for _, bo := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		path, b := signPcapng(t, bo, 5, priv)
		if err := VerifyFile(path, pub); err != nil {
			t.Fatalf("%v: VerifyFile: %v", bo, err)
		}
		if err := verifyBytes(b, nil); err != nil {
			t.Fatalf("%v: embedded key: %v", bo, err)
		}
		k, err := EmbeddedKey(bytes.NewReader(b), int64(len(b)))
		if err != nil || !bytes.Equal(k, pub) {
			t.Fatalf("%v: EmbeddedKey = %x, %v", bo, k, err)
		}
		if err := verifyBytes(b, testKey(22).Public().(ed25519.PublicKey)); !errors.Is(err, ErrKeyMismatch) {
			t.Fatalf("%v: other key: %v", bo, err)
		}
		f, _ := os.OpenFile(path, os.O_RDWR, 0)
		if _, _, err := Append(f, priv); !errors.Is(err, ErrAlreadySigned) {
			t.Fatalf("%v: signing twice: %v", bo, err)
		}
		f.Close()
	}
}

// Any flipped byte, a truncation or appended bytes are detected.
func TestPcapngTamper(t *testing.T) {
	priv := testKey(23)
	pub := priv.Public().(ed25519.PublicKey)
	_, b := signPcapng(t, binary.LittleEndian, 3, priv)
	for i := range b {
		c := append([]byte(nil), b...)
		c[i] ^= 0x01
		for _, k := range []ed25519.PublicKey{pub, nil} {
			if err := verifyBytes(c, k); err == nil || !isVerifyError(err) {
				t.Fatalf("flipping byte %d of %d: %v", i, len(b), err)
			}
		}
	}
	for n := 0; n < len(b); n += 7 {
		if err := verifyBytes(b[:n], pub); err == nil || !isVerifyError(err) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
	// A whole block appended after the signature.
	extra := append(append([]byte(nil), b...), pcapng(binary.LittleEndian, 1)[len(pcapng(binary.LittleEndian, 0)):]...)
	if err := verifyBytes(extra, pub); !errors.Is(err, ErrNotLast) {
		t.Fatalf("block after the signature: %v", err)
	}
	unsigned := pcapng(binary.LittleEndian, 3)
	if err := verifyBytes(unsigned, pub); !errors.Is(err, ErrNoSignature) {
		t.Fatalf("unsigned: %v", err)
	}
}

// Wireshark's readers skip the signature block: the packets are all there.
func TestPcapngReadableByTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	path, _ := signPcapng(t, binary.LittleEndian, 4, testKey(24))
	out, err := exec.Command("tshark", "-r", path, "-T", "fields", "-e", "udp.dstport").CombinedOutput()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	if got := strings.Count(string(out), "40002"); got != 4 {
		t.Fatalf("tshark read %d of 4 packets:\n%s", got, out)
	}
}

func FuzzVerifyPcapng(f *testing.F) {
	priv := testKey(25)
	pub := priv.Public().(ed25519.PublicKey)
	_, b := signPcapng(f, binary.LittleEndian, 2, priv)
	f.Add(b)
	f.Add(b[:len(b)-4])
	f.Add(pcapng(binary.BigEndian, 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		if verifyBytes(data, pub) == nil && !bytes.Equal(data, b) {
			t.Fatalf("accepted a modified file")
		}
		_ = verifyBytes(data, nil)
		_, _ = EmbeddedKey(bytes.NewReader(data), int64(len(data)))
	})
}
