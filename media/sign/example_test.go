package sign_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"

	"spanrec/media/sign"
)

// Sign a finished WAV file in place and verify it, then see that a
// changed byte is found.
func ExampleAppend() {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	dir, _ := os.MkdirTemp("", "sign-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "call.wav")

	// A minimal RIFF/WAVE file: the header and an empty data chunk.
	wav := []byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00")
	os.WriteFile(path, wav, 0o640)
	f, _ := os.OpenFile(path, os.O_RDWR, 0)
	_, size, err := sign.Append(f, priv)
	f.Close()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("signed:", size > int64(len(wav)))
	fmt.Println("verify:", sign.VerifyFile(path, pub))

	b, _ := os.ReadFile(path)
	b[24] ^= 1 // one bit of the sample rate
	os.WriteFile(path, b, 0o640)
	fmt.Println("after a change:", sign.VerifyFile(path, pub) != nil)
	// Output:
	// signed: true
	// verify: <nil>
	// after a change: true
}
