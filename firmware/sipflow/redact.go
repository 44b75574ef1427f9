package sipflow

import (
	"bytes"
	"strconv"
)

// Redact returns a copy of the SIP message msg fit to be kept with a
// recording: the key material in its SDP — the inline keys of a=crypto
// (SDES), k= lines, a=key-mgmt (MIKEY) data — is blanked with 'X's of the
// same length, so the message still parses and its Content-Length holds.
//
// When plain is set, the media the message describes is kept decrypted:
// then its a=crypto lines are dropped and its SRTP profiles become RTP
// (RTP/SAVP to RTP/AVP, RTP/SAVPF to RTP/AVPF), with Content-Length
// rewritten, so a reader decodes the kept packets as the RTP they now are.
func Redact(msg []byte, plain bool) []byte {
	head, body, ok := splitMessage(msg)
	if !ok {
		return bytes.Clone(msg)
	}
	var out []byte
	changed := false
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line = body[:i+1]
		}
		body = body[len(line):]
		text := bytes.TrimRight(line, "\r\n")
		switch {
		case plain && hasPrefixFold(text, "a=crypto:"):
			changed = true
			continue
		case plain && bytes.HasPrefix(text, []byte("m=")):
			if l := plainProfile(line); !bytes.Equal(l, line) {
				line, changed = l, true
			}
		case hasPrefixFold(text, "a=crypto:"):
			line, changed = blankInline(line), true
		case bytes.HasPrefix(text, []byte("k=")), hasPrefixFold(text, "a=key-mgmt:"):
			line, changed = blankAfter(line, bytes.IndexByte(line, ':')+1), true
		}
		out = append(out, line...)
	}
	if !changed {
		return bytes.Clone(msg)
	}
	if len(out) == len(msg)-len(head) {
		return append(bytes.Clone(head), out...)
	}
	return append(setContentLength(head, len(out)), out...)
}

// splitMessage splits msg after the blank line that ends its headers.
func splitMessage(msg []byte) (head, body []byte, ok bool) {
	for _, sep := range []string{"\r\n\r\n", "\n\n"} {
		if i := bytes.Index(msg, []byte(sep)); i >= 0 {
			return msg[:i+len(sep)], msg[i+len(sep):], true
		}
	}
	return nil, nil, false
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && bytes.EqualFold(b[:len(prefix)], []byte(prefix))
}

// blankInline blanks the key of every inline: parameter of an a=crypto
// line (up to its |lifetime, |MKI, ; or space).
func blankInline(line []byte) []byte {
	out := bytes.Clone(line)
	for i := 0; ; {
		j := indexFold(out[i:], "inline:")
		if j < 0 {
			return out
		}
		k := i + j + len("inline:")
		for k < len(out) && !bytes.ContainsRune([]byte("|; \t\r\n"), rune(out[k])) {
			out[k] = 'X'
			k++
		}
		i = k
	}
}

// indexFold is bytes.Index for an ASCII needle, ignoring case (and never
// changing the length of invalid UTF-8, as bytes.ToLower would).
func indexFold(b []byte, needle string) int {
	for i := 0; i+len(needle) <= len(b); i++ {
		if hasPrefixFold(b[i:], needle) {
			return i
		}
	}
	return -1
}

// blankAfter blanks line from offset i to its end (not the line break).
func blankAfter(line []byte, i int) []byte {
	out := bytes.Clone(line)
	end := len(bytes.TrimRight(out, "\r\n"))
	for k := max(i, 0); k < end; k++ {
		out[k] = 'X'
	}
	return out
}

// plainProfile turns the SRTP profile of an m= line into its RTP one.
func plainProfile(line []byte) []byte {
	f := bytes.SplitN(line, []byte(" "), 4)
	if len(f) < 3 {
		return line
	}
	proto := bytes.TrimRight(f[2], "\r\n")
	eol := f[2][len(proto):]
	var np string
	switch up := bytes.ToUpper(proto); {
	case bytes.Equal(up, []byte("RTP/SAVP")), bytes.Equal(up, []byte("UDP/TLS/RTP/SAVP")):
		np = "RTP/AVP"
	case bytes.Equal(up, []byte("RTP/SAVPF")), bytes.Equal(up, []byte("UDP/TLS/RTP/SAVPF")):
		np = "RTP/AVPF"
	default:
		return line
	}
	f[2] = append([]byte(np), eol...)
	return bytes.Join(f, []byte(" "))
}

// setContentLength rewrites the Content-Length (or l:) header of head.
func setContentLength(head []byte, length int) []byte {
	var out []byte
	done := false
	for len(head) > 0 {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line = head[:i+1]
		}
		head = head[len(line):]
		name, _, ok := bytes.Cut(line, []byte(":"))
		if h := bytes.TrimSpace(name); ok && !done && (bytes.EqualFold(h, []byte("Content-Length")) || bytes.EqualFold(h, []byte("l"))) {
			eol := line[len(bytes.TrimRight(line, "\r\n")):]
			line = append(append(append(bytes.Clone(name), ": "...), strconv.Itoa(length)...), eol...)
			done = true
		}
		out = append(out, line...)
	}
	return out
}
