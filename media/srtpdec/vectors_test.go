package srtpdec_test

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"spanrec/media/srtpdec"
	"spanrec/media/srtpdec/internal/suites"
	"spanrec/media/srtpdec/srtptest"
)

// The published test vectors. Those of RFC 3711 Appendix B.2 and RFC 7714
// section 16 are given at the level of session keys, which the public API
// does not take (New derives session keys from master keys), so they check
// the reference sender of reference_test.go; TestDecryptReference then checks
// Decrypt against that sender, using the RFCs' master keys where they give
// them (Appendix B.3, RFC 6188 section 7.2).

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 3711 Appendix B.3 (AES-128) and RFC 6188 section 7.2 (AES-256): key
// derivation with key derivation rate 0.
var kdfVectors = []struct {
	name                        string
	masterKey, masterSalt       string
	cipherKey, cipherSalt, auth string
}{
	{
		name:       "RFC3711-B.3",
		masterKey:  "E1F97A0D3E018BE0D64FA32C06DE4139",
		masterSalt: "0EC675AD498AFEEBB6960B3AABE6",
		cipherKey:  "C61E7A93744F39EE10734AFE3FF7A087",
		cipherSalt: "30CBBC08863D8C85D49DB34A9AE1",
		auth:       "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4",
	},
	{
		name:       "RFC6188-7.2",
		masterKey:  "f0f04914b513f2763a1b1fa130f10e29 98f6f6e43e4309d1e622a0e332b9f1b6",
		masterSalt: "3b04803de51ee7c96423ab5b78d2",
		cipherKey:  "5ba1064e30ec51613cad926c5a28ef73 1ec7fb397f70a960653caf06554cd8c4",
		cipherSalt: "fa31791685ca444a9e07c6c64e93",
		auth:       "fd9c32d39ed5fbb5a9dc96b30818454d1313dc05",
	},
}

func TestReferenceKeyDerivation(t *testing.T) {
	for _, v := range kdfVectors {
		t.Run(v.name, func(t *testing.T) {
			mk, ms := unhex(t, v.masterKey), unhex(t, v.masterSalt)
			for _, c := range []struct {
				label byte
				want  string
			}{{labelEncryption, v.cipherKey}, {labelSalt, v.cipherSalt}, {labelAuth, v.auth}} {
				want := unhex(t, c.want)
				if got := refKDF(mk, ms, c.label, len(want)); !bytes.Equal(got, want) {
					t.Errorf("label %d: %x, want %x", c.label, got, want)
				}
			}
		})
	}
}

// RFC 3711 Appendix B.2 (AES-128) and RFC 6188 section 7.1 (AES-256): the
// AES-CM keystream for SSRC 0 and packet index 0, whose first and last
// three blocks of a 65282-block segment are listed.
func TestReferenceKeystream(t *testing.T) {
	salt := "F0F1F2F3F4F5F6F7F8F9FAFBFCFD"
	for _, v := range []struct {
		name, key, first, last string
	}{
		{
			name: "RFC3711-B.2",
			key:  "2B7E151628AED2A6ABF7158809CF4F3C",
			first: `E03EAD0935C95E80E166B16DD92B4EB4
				D23513162B02D0F72A43A2FE4A5F97AB
				41E95B3BB0A2E8DD477901E4FCA894C0`,
			last: `EC8CDF7398607CB0F2D21675EA9EA1E4
				362B7C3C6773516318A077D7FC5073AE
				6A2CC3787889374FBEB4C81B17BA6C44`,
		},
		{
			name: "RFC6188-7.1",
			key:  "57f82fe3613fd170a85ec93c40b1f092 2ec4cb0dc025b58272147cc438944a98",
			first: `92bdd28a93c3f52511c677d08b5515a4
				9da71b2378a854f67050756ded165bac
				63c4868b7096d88421b563b8c94c9a31`,
			last: `cea518c90fd91ced9cbb18c078a54711
				3dbc4814f4da5f00a08772b63c6a046d
				6eb246913062a16891433e97dd01a57f`,
		},
	} {
		t.Run(v.name, func(t *testing.T) {
			ks := refKeystream(unhex(t, v.key), unhex(t, salt), 0, 0, 65282*16)
			if got, want := ks[:48], unhex(t, v.first); !bytes.Equal(got, want) {
				t.Errorf("first blocks %x, want %x", got, want)
			}
			if got, want := ks[len(ks)-48:], unhex(t, v.last); !bytes.Equal(got, want) {
				t.Errorf("last blocks %x, want %x", got, want)
			}
		})
	}
}

// RFC 7714 section 16: the RTP packet "Gallia est omnis divisa in partes
// tres" (SSRC 0x5501a0b2, sequence 0xf17b, ROC 0) under session key
// 000102..., salt "Quid pro quo".
const (
	gcmPlain = `8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976
		69736120 696e2070 61727465 73207472 6573`
	gcmSalt = "517569642070726f2071756f"
)

var gcmVectors = []struct{ suite, key, protected string }{
	{
		suite: "AEAD_AES_128_GCM", // section 16.1.1
		key:   "000102030405060708090a0b0c0d0e0f",
		protected: `8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5
			0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce`,
	},
	{
		suite: "AEAD_AES_256_GCM", // section 16.2.1
		key:   "000102030405060708090a0b0c0d0e0f 101112131415161718191a1b1c1d1e1f",
		protected: `8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa 332e33aa b1801238
			9a58e2f3 b50b2a02 76ffae0f 1ba63799 b87b7aa3 db36dfff d6b0f9bb 7878d7a7 6c13`,
	},
}

func TestReferenceGCM(t *testing.T) {
	for _, v := range gcmVectors {
		t.Run(v.suite, func(t *testing.T) {
			got := refGCM(unhex(t, v.key), unhex(t, gcmSalt), unhex(t, gcmPlain), 0, nil)
			if want := unhex(t, v.protected); !bytes.Equal(got, want) {
				t.Errorf("protected\n%x, want\n%x", got, want)
			}
		})
	}
}

// TestDecryptReference decrypts what the reference sender protects, for
// every suite, with and without an MKI, along a stream that wraps its
// sequence number five times (the ROC the reference is given must be the one
// Decrypt estimates). The master keys are the
// RFCs' where they give one (B.3 for AES-128, RFC 6188 7.2 for AES-256; for
// AES-GCM, which has no key-derivation vector, the section 16 key and salt
// used as master key and salt).
func TestDecryptReference(t *testing.T) {
	master := map[int]string{
		30: kdfVectors[0].masterKey + kdfVectors[0].masterSalt,
		46: kdfVectors[1].masterKey + kdfVectors[1].masterSalt,
		28: gcmVectors[0].key + gcmSalt,
		44: gcmVectors[1].key + gcmSalt,
	}
	plain := unhex(t, gcmPlain)
	for _, name := range suites.Names() {
		s, _ := suites.Lookup(name)
		material := unhex(t, master[s.KeyLen+s.SaltLen])
		for _, mki := range [][]byte{nil, {0xA5, 0x01}} {
			t.Run(name+mkiName(mki), func(t *testing.T) {
				d, err := srtpdec.New(name, []srtpdec.Key{{Material: material, MKI: mki}})
				if err != nil {
					t.Fatal(err)
				}
				// From the vector's sequence number 0xf17b and ROC 0, in
				// steps of 128 (as if 127 packets in between were lost).
				pkt := bytes.Clone(plain)
				var roc uint32
				seq := uint16(0xf17b)
				for i := range 3000 {
					pkt[2], pkt[3] = byte(seq>>8), byte(seq)
					got, err := d.Decrypt(nil, refProtect(s, material, mki, pkt, roc))
					if err != nil {
						t.Fatalf("packet %d (ROC %d, seq %d): %v", i, roc, seq, err)
					}
					if !bytes.Equal(got, pkt) {
						t.Fatalf("packet %d: %x, want %x", i, got, pkt)
					}
					seq += 0x80
					if seq < 0x80 {
						roc++
					}
				}
				if roc < 5 {
					t.Fatalf("the stream reached ROC %d only", roc)
				}
			})
		}
	}
}

func mkiName(mki []byte) string {
	if mki == nil {
		return ""
	}
	return "/MKI"
}

// TestReferenceMatchesPion checks that srtptest's encryptor (pion) writes
// byte for byte what the reference sender writes, across a sequence wrap,
// so the pion-made packets of the other tests are RFC 3711 / RFC 7714 SRTP.
func TestReferenceMatchesPion(t *testing.T) {
	plain := unhex(t, gcmPlain)
	for _, name := range suites.Names() {
		s, _ := suites.Lookup(name)
		for _, mki := range [][]byte{nil, {0, 0, 0, 7}} {
			t.Run(name+mkiName(mki), func(t *testing.T) {
				key := srtptest.Key(name, 9)
				key.MKI = mki
				enc, err := srtptest.Encryptor(name, key)
				if err != nil {
					t.Fatal(err)
				}
				pkt := bytes.Clone(plain)
				var roc uint32
				for seq := uint16(65530); ; seq++ {
					pkt[2], pkt[3] = byte(seq>>8), byte(seq)
					got, err := enc.Encrypt(nil, pkt)
					if err != nil {
						t.Fatal(err)
					}
					if want := refProtect(s, key.Material, mki, pkt, roc); !bytes.Equal(got, want) {
						t.Fatalf("seq %d: pion\n%x, reference\n%x", seq, got, want)
					}
					if seq == 65535 {
						roc = 1
					}
					if seq == 5 {
						break
					}
				}
			})
		}
	}
}
