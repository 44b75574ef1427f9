package sipflow

import "bytes"

// maxStartLine bounds how far LooksLikeSIP looks for the end of a start
// line; longer request or status lines are not taken for SIP.
const maxStartLine = 2048

// maxMethod bounds the length of a request method token.
const maxMethod = 32

// LooksLikeSIP reports whether b begins with a SIP start line: a status line
// "SIP/2.0 NNN" or a request line "METHOD SP Request-URI SP SIP/2.0" whose
// method is a token of upper-case letters (INVITE, ACK, BYE, CANCEL, OPTIONS,
// REGISTER, UPDATE, INFO, PRACK, SUBSCRIBE, NOTIFY, REFER, MESSAGE, PUBLISH or
// any other). The start line may end at CRLF, LF or the end of b. It does
// not allocate and rejects RTP (first byte 0x80..0xBF) on the first byte.
func LooksLikeSIP(b []byte) bool {
	if len(b) < 11 || b[0] < 'A' || b[0] > 'Z' {
		return false
	}
	if b[0] == 'S' && string(b[:8]) == "SIP/2.0 " {
		if b[8] < '1' || b[8] > '6' || !isDigit(b[9]) || !isDigit(b[10]) {
			return false
		}
		if len(b) > 11 && b[11] != ' ' && b[11] != '\r' && b[11] != '\n' {
			return false
		}
		_, ok := startLineEnd(b)
		return ok
	}
	i := 1
	for i < len(b) && i <= maxMethod && b[i] >= 'A' && b[i] <= 'Z' {
		i++
	}
	if i > maxMethod || i >= len(b) || b[i] != ' ' {
		return false
	}
	end, ok := startLineEnd(b)
	if !ok {
		return false
	}
	line := b[:end]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	const version = " SIP/2.0"
	uriStart := i + 1
	if len(line)-len(version) <= uriStart || string(line[len(line)-len(version):]) != version {
		return false
	}
	// The Request-URI is one token: no space in it. Other control bytes
	// (NUL, ESC, a stray CR) are garbage inside a real request, which is
	// still followed (the tracker keeps such text exactly, escaped).
	for _, c := range line[uriStart : len(line)-len(version)] {
		if c == ' ' {
			return false
		}
	}
	return true
}

// startLineEnd returns where b's start line ends (its LF, or the end of b),
// and false when it runs past maxStartLine: too long for SIP, request or
// response.
func startLineEnd(b []byte) (int, bool) {
	lim := b
	if len(lim) > maxStartLine {
		lim = lim[:maxStartLine]
	}
	if end := bytes.IndexByte(lim, '\n'); end >= 0 {
		return end, true
	}
	return len(b), len(b) <= maxStartLine
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
