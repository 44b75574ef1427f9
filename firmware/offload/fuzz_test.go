package offload

import (
	"strings"
	"testing"
)

func FuzzParseWindow(f *testing.F) {
	for _, s := range []string{"", "01:00-05:00", "22:00-06:00", "00:00-24:00", "1:00-2:00", "24:00-00:00", "a-b", "99:99-00:00", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWindow(s)
		if err != nil {
			return
		}
		if w.Start < 0 || w.Start > 1440 || w.End < 0 || w.End > 1440 {
			t.Fatalf("%q: window %+v out of range", s, w)
		}
		if strings.TrimSpace(s) != "" {
			back, err := ParseWindow(w.String())
			if err != nil || back != w {
				t.Fatalf("%q: round trip %q: %+v %v", s, w.String(), back, err)
			}
		}
	})
}

// knownCredErrors are parseCredentials' error texts, each run of digits masked as one #.
var knownCredErrors = map[string]bool{
	"offload: bad credentials file: PEM block is not a private key":                               true,
	"offload: bad credentials file: want one password line, key=value lines or a PEM private key": true,
	"offload: bad credentials file: line # is not key=value":                                      true,
	"offload: bad credentials file: line #: unknown key":                                          true,
	"offload: bad credentials file: neither password nor key_file given":                          true,
}

func FuzzParseCredentials(f *testing.F) {
	for _, s := range []string{"pw\n", "password=a=b\n", "key_file=/k\nkey_passphrase=x\n", "# c\n\npassword=p\n",
		"-----BEGIN OPENSSH PRIVATE KEY-----\nAA\n-----END OPENSSH PRIVATE KEY-----\n", "a\nb", "=\n", "password=\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, keyFile, err := parseCredentials(data)
		if err != nil {
			// An error never quotes the file: with digits masked, its text
			// is one of a fixed few.
			msg := strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return '#'
				}
				return r
			}, err.Error())
			for strings.Contains(msg, "##") {
				msg = strings.ReplaceAll(msg, "##", "#")
			}
			if !knownCredErrors[msg] {
				t.Fatalf("unexpected error text (content quoted?): %q", msg)
			}
			return
		}
		if c.password == "" && keyFile == "" && len(c.key) == 0 {
			t.Fatalf("%q: accepted without any secret", data)
		}
	})
}

func FuzzItemValidate(f *testing.F) {
	f.Add("20261125T144422Z-3fa2c1d0", "recordings/2026/11/25/20261125T144422Z-3fa2c1d0.wav")
	f.Add("x", "../x")
	f.Add("x", "/abs")
	f.Add("x", "a//b")
	f.Add("x", `a\b`)
	f.Fuzz(func(t *testing.T, id, file string) {
		it := Item{ID: id, File: file, SHA256: strings.Repeat("0", 64)}
		if it.Validate() != nil {
			return
		}
		// An accepted item stays below the base: no "..", not absolute,
		// and its temporary and manifest names are hidden siblings.
		for _, p := range []string{it.File, it.ManifestName(), tempName(it.File)} {
			if strings.HasPrefix(p, "/") || strings.Contains(p, "\\") {
				t.Fatalf("unsafe name %q", p)
			}
			for _, el := range strings.Split(p, "/") {
				if el == ".." || el == "" || el == "." {
					t.Fatalf("unsafe name %q", p)
				}
			}
		}
	})
}
