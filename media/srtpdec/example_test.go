package srtpdec_test

import (
	"encoding/base64"
	"fmt"
	"strings"

	"spanrec/media/srtpdec"
	"spanrec/media/srtpdec/srtptest"
)

// A phone's SDP carries its key in a=crypto; the suite, the decoded key
// and the MKI make the Decryptor for the SRTP that phone sends.
func Example() {
	const suite = "AES_CM_128_HMAC_SHA1_80"
	key := srtptest.Key(suite, 1) // the phone's key, made up for the example
	key.MKI = []byte{1}
	line := "a=crypto:1 " + suite + " inline:" + srtptest.Inline(key)

	// What media/sdp reads from the line: suite, key material, MKI 1:1.
	f := strings.Fields(line)
	b64, _, _ := strings.Cut(strings.TrimPrefix(f[2], "inline:"), "|")
	material, _ := base64.StdEncoding.DecodeString(b64)
	d, err := srtpdec.New(f[1], []srtpdec.Key{{Material: material, MKI: []byte{1}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d)

	// A packet as the phone sends it (made here by the test encryptor).
	enc, _ := srtptest.Encryptor(suite, key)
	rtp := []byte{0x80, 0, 0, 1, 0, 0, 0, 160, 0xCA, 0xFE, 0, 1, 'h', 'e', 'l', 'l', 'o'}
	srtp, _ := enc.Encrypt(nil, rtp)

	buf := make([]byte, 0, 1500) // reused for every packet
	plain, err := d.Decrypt(buf, srtp)
	fmt.Printf("%d bytes of SRTP: %q, %v\n", len(srtp), plain[12:], err)

	srtp[13] ^= 1 // one bit changed on the way
	_, err = d.Decrypt(buf, srtp)
	fmt.Println(err)
	// Output:
	// srtpdec.Decryptor(AES_CM_128_HMAC_SHA1_80, 1 key, 1-byte MKI)
	// 28 bytes of SRTP: "hello", <nil>
	// srtpdec: authentication failed
}
