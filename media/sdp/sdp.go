package sdp

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"
)

// ErrMalformed is wrapped by every error Parse returns.
var ErrMalformed = errors.New("sdp: malformed")

// maxBody bounds the size of an SDP body Parse accepts.
const maxBody = 64 << 10

// Defaults for zero Limits fields.
const (
	DefaultMaxMedia      = 8
	DefaultMaxFormats    = 32
	DefaultMaxAttributes = 64
)

// Limits bound what Parse keeps of one body, so that a hostile SDP costs
// little memory and linear time however many payload types it lists. Zero
// fields take the defaults.
type Limits struct {
	MaxMedia      int // m-lines kept; later ones are dropped (default 8)
	MaxFormats    int // distinct payload types kept per m-line; repeats are dropped (default 32)
	MaxAttributes int // a= lines kept per level (session, each m-line) (default 64)
}

func (l Limits) withDefaults() Limits {
	if l.MaxMedia <= 0 {
		l.MaxMedia = DefaultMaxMedia
	}
	if l.MaxFormats <= 0 {
		l.MaxFormats = DefaultMaxFormats
	}
	if l.MaxAttributes <= 0 {
		l.MaxAttributes = DefaultMaxAttributes
	}
	return l
}

// Direction is the media direction attribute of an m-line (RFC 3264).
type Direction uint8

// Media directions. The zero value is SendRecv, the default when no
// direction attribute is present.
const (
	SendRecv Direction = iota
	SendOnly
	RecvOnly
	Inactive
)

// String returns the attribute name of d ("sendrecv", "sendonly", ...).
func (d Direction) String() string {
	switch d {
	case SendRecv:
		return "sendrecv"
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	}
	return "direction(" + strconv.Itoa(int(d)) + ")"
}

// parseDirection maps an attribute key to a Direction.
func parseDirection(key string) (Direction, bool) {
	switch strings.ToLower(key) {
	case "sendrecv":
		return SendRecv, true
	case "sendonly":
		return SendOnly, true
	case "recvonly":
		return RecvOnly, true
	case "inactive":
		return Inactive, true
	}
	return 0, false
}

// Format is one RTP payload format offered on an m-line.
type Format struct {
	PT        uint8  // RTP payload type
	Encoding  string // upper-case encoding name: PCMU, PCMA, TELEPHONE-EVENT, G729, OPUS, ...
	ClockRate int    // RTP clock rate in Hz; 0 if unknown
	Channels  int    // audio channels; 1 unless the rtpmap says otherwise, 0 for unknown/video
}

// Media is one m-line of a session description.
type Media struct {
	Kind      string         // media type from the m-line: audio, video, image, ...
	Addr      netip.AddrPort // connection address + m= port; invalid if c= is missing or a hostname
	Rejected  bool           // port 0
	Direction Direction      // media-level attribute overrides session-level; default SendRecv
	Formats   []Format       // in m-line order; non-numeric formats are skipped
	Ptime     int            // packetisation time in ms (media-level overrides session-level); 0 if absent
	Proto     string         // transport protocol of the m-line: RTP/AVP, RTP/SAVP, udptl, ...
	T38       bool           // the m-line offers T.38 fax (m=image ... udptl t38)
	Security  Security       // SDES keys, DTLS fingerprint, ZRTP (session-level fingerprint and zrtp-hash inherited)
}

// OnHold reports whether the m-line puts the stream on hold: sendonly,
// inactive, or a connection address of 0.0.0.0 / ::.
func (m Media) OnHold() bool {
	if m.Direction == SendOnly || m.Direction == Inactive {
		return true
	}
	return m.Addr.Addr().IsValid() && m.Addr.Addr().IsUnspecified()
}

// Format returns the format with payload type pt, if offered.
func (m Media) Format(pt uint8) (Format, bool) {
	for _, f := range m.Formats {
		if f.PT == pt {
			return f, true
		}
	}
	return Format{}, false
}

// TelephoneEventPT returns the payload type of RFC 4733 telephone-event
// (DTMF), if offered.
func (m Media) TelephoneEventPT() (uint8, bool) {
	for _, f := range m.Formats {
		if f.Encoding == "TELEPHONE-EVENT" {
			return f.PT, true
		}
	}
	return 0, false
}

// Session is a parsed session description.
type Session struct {
	Media []Media // in body order
	// Truncated is set when the body held more m-lines, payload types or
	// attributes than the Limits keep (what was kept is still used).
	Truncated bool
}

// Audio returns the first audio m-line that is not rejected.
func (s *Session) Audio() (Media, bool) {
	for _, m := range s.Media {
		if m.Kind == "audio" && !m.Rejected {
			return m, true
		}
	}
	return Media{}, false
}

// Fax returns the first T.38 m-line (m=image ... t38) that is not rejected.
func (s *Session) Fax() (Media, bool) {
	for _, m := range s.Media {
		if m.Kind == "image" && m.T38 && !m.Rejected {
			return m, true
		}
	}
	return Media{}, false
}

// HasKind reports whether the session has an m-line of kind (rejected or
// not).
func (s *Session) HasKind(kind string) bool {
	for _, m := range s.Media {
		if m.Kind == kind {
			return true
		}
	}
	return false
}

// staticFormat returns the format of a static RTP payload type (RFC 3551
// table 4/5), which needs no rtpmap.
func staticFormat(pt uint8) (Format, bool) {
	f := Format{PT: pt, Channels: 1}
	switch pt {
	case 0:
		f.Encoding, f.ClockRate = "PCMU", 8000
	case 3:
		f.Encoding, f.ClockRate = "GSM", 8000
	case 4:
		f.Encoding, f.ClockRate = "G723", 8000
	case 5:
		f.Encoding, f.ClockRate = "DVI4", 8000
	case 6:
		f.Encoding, f.ClockRate = "DVI4", 16000
	case 7:
		f.Encoding, f.ClockRate = "LPC", 8000
	case 8:
		f.Encoding, f.ClockRate = "PCMA", 8000
	case 9:
		f.Encoding, f.ClockRate = "G722", 8000
	case 10:
		f.Encoding, f.ClockRate, f.Channels = "L16", 44100, 2
	case 11:
		f.Encoding, f.ClockRate = "L16", 44100
	case 12:
		f.Encoding, f.ClockRate = "QCELP", 8000
	case 13:
		f.Encoding, f.ClockRate = "CN", 8000
	case 14:
		f.Encoding, f.ClockRate, f.Channels = "MPA", 90000, 0
	case 15:
		f.Encoding, f.ClockRate = "G728", 8000
	case 16:
		f.Encoding, f.ClockRate = "DVI4", 11025
	case 17:
		f.Encoding, f.ClockRate = "DVI4", 22050
	case 18:
		f.Encoding, f.ClockRate = "G729", 8000
	case 25:
		f.Encoding, f.ClockRate, f.Channels = "CELB", 90000, 0
	case 26:
		f.Encoding, f.ClockRate, f.Channels = "JPEG", 90000, 0
	case 28:
		f.Encoding, f.ClockRate, f.Channels = "NV", 90000, 0
	case 31:
		f.Encoding, f.ClockRate, f.Channels = "H261", 90000, 0
	case 32:
		f.Encoding, f.ClockRate, f.Channels = "MPV", 90000, 0
	case 33:
		f.Encoding, f.ClockRate, f.Channels = "MP2T", 90000, 0
	case 34:
		f.Encoding, f.ClockRate, f.Channels = "H263", 90000, 0
	default:
		return Format{PT: pt}, false
	}
	return f, true
}

// pionMedia and pionProtos are the values pion's m-line parser accepts.
func pionMedia(kind string) bool {
	switch kind {
	case "audio", "video", "text", "application", "message":
		return true
	}
	return false
}

func pionProto(proto string) bool {
	for p := range strings.SplitSeq(proto, "/") {
		switch p {
		case "UDP", "RTP", "AVP", "SAVP", "SAVPF", "TLS", "DTLS", "SCTP", "AVPF",
			"TCP", "MSRP", "BFCP", "UDT", "IX", "MRCPv2", "FEC":
		default:
			return false
		}
	}
	return true
}

// normalise rewrites body into the canonical order pion requires and returns
// it with the original media kind and protocol of every m-line (pion only
// knows a few kinds and protocols, so unknown ones are replaced by
// placeholders).
func normalise(body []byte, lim Limits) (string, []string, []string, bool, error) {
	var (
		sessC, sessA strings.Builder
		media        strings.Builder
		kinds        []string
		protos       []string
		sawSDP       bool
		truncated    bool
		attrsHere    int  // a= lines kept at the current level
		dropMedia    bool // the current m-line is past MaxMedia
	)
	for len(body) > 0 {
		var line []byte
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			line, body = body, nil
		}
		line = bytes.TrimRight(line, " \t\r")
		line = bytes.TrimLeft(line, " \t")
		if len(line) < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z' {
			continue // blank or not an SDP line: tolerated and ignored
		}
		sawSDP = true
		if line[0] == 'm' {
			attrsHere = 0
			dropMedia = len(kinds) >= lim.MaxMedia
			if dropMedia {
				truncated = true
			}
		}
		if dropMedia {
			continue
		}
		if line[0] == 'a' {
			if attrsHere >= lim.MaxAttributes {
				truncated = true
				continue
			}
			attrsHere++
		}
		val := string(line[2:])
		inMedia := len(kinds) > 0
		switch line[0] {
		case 'm':
			f := strings.Fields(val)
			if len(f) < 3 {
				return "", nil, nil, false, fmt.Errorf("%w: m-line %q has fewer than 3 fields", ErrMalformed, val)
			}
			var cut bool
			if f, cut = capFormats(f, lim.MaxFormats); cut {
				truncated = true
			}
			kinds = append(kinds, f[0])
			protos = append(protos, f[2])
			if !pionMedia(f[0]) {
				f[0] = "application"
			}
			if !pionProto(f[2]) {
				f[2] = "UDP"
			}
			media.WriteString("m=")
			media.WriteString(strings.Join(f, " "))
			media.WriteString("\r\n")
		case 'c':
			w := &sessC
			if inMedia {
				w = &media
			}
			if !inMedia && sessC.Len() > 0 {
				continue // pion takes one session c=; keep the first
			}
			w.WriteString("c=")
			w.WriteString(strings.Join(strings.Fields(val), " "))
			w.WriteString("\r\n")
		case 'a':
			w := &sessA
			if inMedia {
				w = &media
			}
			w.WriteString("a=")
			w.WriteString(val)
			w.WriteString("\r\n")
		}
		// v, o, s, t and the rest carry nothing the tracker needs.
	}
	if !sawSDP {
		return "", nil, nil, false, fmt.Errorf("%w: no SDP lines", ErrMalformed)
	}
	var b strings.Builder
	b.Grow(64 + sessC.Len() + sessA.Len() + media.Len())
	b.WriteString("v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\n")
	b.WriteString(sessC.String())
	b.WriteString("t=0 0\r\n")
	b.WriteString(sessA.String())
	b.WriteString(media.String())
	return b.String(), kinds, protos, truncated, nil
}

// capFormats keeps the m-line fields (kind, port, proto, formats...) with
// each payload type once and at most max formats, in their order; cut
// reports whether any format was dropped. Linear in the number of fields.
func capFormats(f []string, max int) (out []string, cut bool) {
	var seen [128]bool
	out = f[:3]
	for _, tok := range f[3:] {
		if len(out)-3 >= max {
			return out, true
		}
		if n, err := strconv.ParseUint(tok, 10, 8); err == nil && n < 128 {
			if seen[n] {
				cut = true
				continue
			}
			seen[n] = true
		}
		out = append(out, tok)
	}
	return out, cut
}

// attrs is the subset of attributes Parse interprets at one level.
type attrs struct {
	dir    Direction
	hasDir bool
	ptime  int
}

func readAttrs(list []psdp.Attribute) attrs {
	var a attrs
	for _, at := range list {
		if d, ok := parseDirection(at.Key); ok {
			a.dir, a.hasDir = d, true
			continue
		}
		if strings.EqualFold(at.Key, "ptime") {
			if n, err := strconv.Atoi(strings.TrimSpace(at.Value)); err == nil && n > 0 && n <= 10000 {
				a.ptime = n
			}
		}
	}
	return a
}

// connAddr returns the address of a c= line; invalid for hostnames or
// missing addresses. Multicast TTL/range suffixes are ignored.
func connAddr(c *psdp.ConnectionInformation) (netip.Addr, bool) {
	if c == nil || c.Address == nil {
		return netip.Addr{}, false
	}
	s := c.Address.Address
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, true // present but not an IP literal
	}
	return a.Unmap(), true
}

// Parse parses an SDP body within the default Limits. Errors wrap
// ErrMalformed.
func Parse(body []byte) (*Session, error) { return ParseLimited(body, Limits{}) }

// ParseLimited parses an SDP body, keeping at most what lim allows. Errors
// wrap ErrMalformed.
func ParseLimited(body []byte, lim Limits) (*Session, error) {
	lim = lim.withDefaults()
	if len(body) > maxBody {
		return nil, fmt.Errorf("%w: body of %d bytes exceeds %d", ErrMalformed, len(body), maxBody)
	}
	norm, kinds, protos, truncated, err := normalise(body, lim)
	if err != nil {
		return nil, err
	}
	var sd psdp.SessionDescription
	if err := sd.UnmarshalString(norm); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(sd.MediaDescriptions) != len(kinds) {
		return nil, fmt.Errorf("%w: %d m-lines parsed of %d", ErrMalformed, len(sd.MediaDescriptions), len(kinds))
	}
	sess := readAttrs(sd.Attributes)
	sessSec := readSecurity(sd.Attributes)
	sessAddr, _ := connAddr(sd.ConnectionInformation)

	out := &Session{Media: make([]Media, 0, len(sd.MediaDescriptions)), Truncated: truncated}
	for i, md := range sd.MediaDescriptions {
		m := Media{Kind: strings.ToLower(kinds[i]), Direction: sess.dir, Ptime: sess.ptime}
		port := md.MediaName.Port.Value
		m.Rejected = port == 0
		addr := sessAddr
		if a, ok := connAddr(md.ConnectionInformation); ok {
			addr = a
		}
		if addr.IsValid() {
			m.Addr = netip.AddrPortFrom(addr, uint16(port))
		}
		ma := readAttrs(md.Attributes)
		if ma.hasDir {
			m.Direction = ma.dir
		}
		if ma.ptime > 0 {
			m.Ptime = ma.ptime
		}
		m.Formats = formats(md, m.Kind == "audio")
		m.Proto = protos[i]
		m.Security = readSecurity(md.Attributes)
		m.Security.Fingerprint = m.Security.Fingerprint || sessSec.Fingerprint
		m.Security.ZRTP = m.Security.ZRTP || sessSec.ZRTP
		for _, f := range md.MediaName.Formats {
			if strings.EqualFold(f, "t38") {
				m.T38 = true
			}
		}
		out.Media = append(out.Media, m)
	}
	return out, nil
}

// formats builds the format list of an m-line from its payload types,
// rtpmap attributes and the static payload type table.
// Each payload type is kept once; the cost is linear in the formats plus
// the attributes.
func formats(md *psdp.MediaDescription, audio bool) []Format {
	fs := make([]Format, 0, len(md.MediaName.Formats))
	var pos [128]int16 // index in fs + 1 of each payload type
	for _, s := range md.MediaName.Formats {
		n, err := strconv.ParseUint(s, 10, 8)
		if err != nil || n > 127 || pos[n] != 0 {
			continue
		}
		f, _ := staticFormat(uint8(n))
		if !audio {
			f.Channels = 0
		}
		fs = append(fs, f)
		pos[n] = int16(len(fs))
	}
	for _, at := range md.Attributes {
		if !strings.EqualFold(at.Key, "rtpmap") {
			continue
		}
		ptStr, enc, ok := strings.Cut(strings.TrimSpace(at.Value), " ")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(ptStr, 10, 8)
		if err != nil || n > 127 || pos[n] == 0 {
			continue
		}
		i := pos[n] - 1
		fs[i] = rtpmap(uint8(n), strings.TrimSpace(enc), fs[i], audio)
	}
	return fs
}

// rtpmap parses "encoding/clock[/channels]"; unparsable parts keep the
// values of def. Audio formats default to one channel, others to zero.
func rtpmap(pt uint8, v string, def Format, audio bool) Format {
	parts := strings.Split(v, "/")
	f := Format{PT: pt, Encoding: strings.ToUpper(parts[0]), ClockRate: def.ClockRate, Channels: def.Channels}
	if f.Encoding == "" {
		f.Encoding = def.Encoding
	}
	if len(parts) > 1 {
		if n, err := strconv.Atoi(parts[1]); err == nil && n > 0 {
			f.ClockRate = n
		}
	}
	f.Channels = 0
	if audio {
		f.Channels = 1
	}
	if len(parts) > 2 {
		if n, err := strconv.Atoi(parts[2]); err == nil && n > 0 {
			f.Channels = n
		}
	}
	return f
}
