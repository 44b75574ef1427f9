package sipflow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"spanrec/firmware/capture"
)

// Errors returned by Parse.
var (
	// ErrMalformed wraps every error sipgo reports for a message that is not
	// valid SIP.
	ErrMalformed = errors.New("sipflow: malformed SIP message")
	// ErrMissingHeader is returned, with the header's name, when one of the
	// headers every SIP message must carry (Call-ID, CSeq, From, To) is
	// absent.
	ErrMissingHeader = errors.New("sipflow: missing required header")
)

// maxSDPPart bounds the size of an SDP part extracted from a multipart body.
const maxSDPPart = 64 << 10

// Party is the address of a From or To header.
type Party struct {
	Display string // display name, unquoted; empty if absent
	User    string // user part of the URI (the number); for tel: URIs the number
	Host    string // host part of a sip:/sips: URI
	URI     string // the whole URI, without display name and header parameters
	Tag     string // tag parameter; empty if absent
}

// Message is one parsed SIP request or response together with where and when
// it was captured.
type Message struct {
	// Capture metadata; Parse leaves these zero, the caller fills them in.
	Time      time.Time
	Src, Dst  netip.AddrPort
	Transport capture.Transport

	IsRequest   bool
	Method      string // request method, e.g. INVITE; empty for responses
	StatusCode  int    // response status code; 0 for requests
	Reason      string // response reason phrase
	RequestURI  string // request URI; empty for responses
	RequestUser string // user part of the Request-URI: the dialed number
	CallID      string
	CSeq        uint32
	CSeqMethod  string // method of the CSeq header, e.g. INVITE for a 200 to an INVITE
	From, To    Party
	Contact     string // URI of the first Contact header; empty if absent
	ContentType string // media type of the body, lower case, without parameters (e.g. application/sdp)
	Body        []byte // message body (the SDP part of a multipart body); owned by the Message

	// SIP is sipgo's parsed message, for any header not lifted above.
	SIP sip.Message
	// Raw is the message exactly as captured (owned by the Message): the
	// raw media file of a call carries its signalling.
	Raw []byte
}

// Parse parses one complete SIP message. The returned Message owns all its
// memory (raw may be reused afterwards). Time, Src, Dst and Transport are
// left for the caller to set.
func Parse(raw []byte) (*Message, error) {
	sm, err := sip.ParseMessage(raw)
	if err != nil {
		// A CR that ends no line (in a Call-ID, a user part) makes sipgo
		// give up on the whole message. Parse it with the stray CRs
		// replaced by a byte the message does not hold, then put them back
		// into the fields: nothing of the call is lost, and its text stays
		// exact.
		fixed, sub, ok := strayCRs(raw)
		if !ok {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		m, err2 := Parse(fixed)
		if err2 != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		m.restore(sub)
		m.Raw = bytes.Clone(raw)
		return m, nil
	}
	m := &Message{SIP: sm, Raw: bytes.Clone(raw)}
	switch v := sm.(type) {
	case *sip.Request:
		m.IsRequest = true
		m.Method = string(v.Method)
		m.RequestURI = v.Recipient.String()
		m.RequestUser = uriUser(&v.Recipient)
	case *sip.Response:
		if v.StatusCode < 100 || v.StatusCode > 699 {
			return nil, fmt.Errorf("%w: status code %d", ErrMalformed, v.StatusCode)
		}
		m.StatusCode = v.StatusCode
		m.Reason = v.Reason
	default:
		return nil, fmt.Errorf("%w: unexpected message type %T", ErrMalformed, sm)
	}

	cid := sm.CallID()
	if cid == nil {
		return nil, fmt.Errorf("%w: Call-ID", ErrMissingHeader)
	}
	m.CallID = cid.Value()
	cseq := sm.CSeq()
	if cseq == nil {
		return nil, fmt.Errorf("%w: CSeq", ErrMissingHeader)
	}
	m.CSeq = cseq.SeqNo
	m.CSeqMethod = string(cseq.MethodName)
	from := sm.From()
	if from == nil {
		return nil, fmt.Errorf("%w: From", ErrMissingHeader)
	}
	m.From = party(from.DisplayName, &from.Address, from.Params)
	to := sm.To()
	if to == nil {
		return nil, fmt.Errorf("%w: To", ErrMissingHeader)
	}
	m.To = party(to.DisplayName, &to.Address, to.Params)
	if c := contact(sm); c != nil {
		m.Contact = c.Address.String()
	}

	m.Body = sm.Body()
	if ct := contentType(sm); ct != nil {
		mt, params, err := mime.ParseMediaType(ct.Value())
		if err != nil {
			// Keep what we can: the part before any parameter.
			mt, _, _ = strings.Cut(ct.Value(), ";")
			mt = strings.ToLower(strings.TrimSpace(mt))
		}
		m.ContentType = mt
		if strings.HasPrefix(mt, "multipart/") && params["boundary"] != "" {
			if sdp, ok := sdpPart(m.Body, params["boundary"]); ok {
				m.Body = sdp
				m.ContentType = "application/sdp"
			}
		}
	}
	return m, nil
}

// contact returns the first Contact header. sipgo's Contact() parses lazily
// and can return nil for a wildcard; both cases are nil here.
func contact(sm sip.Message) *sip.ContactHeader {
	switch v := sm.(type) {
	case *sip.Request:
		return v.Contact()
	case *sip.Response:
		return v.Contact()
	}
	return nil
}

func contentType(sm sip.Message) *sip.ContentTypeHeader {
	switch v := sm.(type) {
	case *sip.Request:
		return v.ContentType()
	case *sip.Response:
		return v.ContentType()
	}
	return nil
}

// sdpPart returns a copy of the first application/sdp part of a multipart
// body.
func sdpPart(body []byte, boundary string) ([]byte, bool) {
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := r.NextRawPart()
		if err != nil {
			return nil, false
		}
		mt, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil || mt != "application/sdp" {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(p, maxSDPPart))
		if err != nil {
			return nil, false
		}
		return b, true
	}
}

// uriUser returns the user part of a SIP URI, or the subscriber number of a
// tel: URI.
func uriUser(u *sip.Uri) string {
	if u.User != "" || u.Scheme == "sip" || u.Scheme == "sips" || u.Scheme == "" {
		return u.User
	}
	if strings.EqualFold(u.Scheme, "tel") {
		num, _, _ := strings.Cut(u.Raw(), ";")
		return num
	}
	return ""
}

func party(display string, u *sip.Uri, params sip.HeaderParams) Party {
	p := Party{
		Display: display,
		User:    uriUser(u),
		Host:    u.Host,
		URI:     u.String(),
	}
	p.Tag, _ = params.Get("tag")
	return p
}

// compactForms maps RFC 3261/IANA compact header names to their long form.
func longName(name string) string {
	if len(name) != 1 {
		return name
	}
	switch name[0] | 0x20 {
	case 'a':
		return "Accept-Contact"
	case 'b':
		return "Referred-By"
	case 'c':
		return "Content-Type"
	case 'd':
		return "Request-Disposition"
	case 'e':
		return "Content-Encoding"
	case 'f':
		return "From"
	case 'i':
		return "Call-ID"
	case 'j':
		return "Reject-Contact"
	case 'k':
		return "Supported"
	case 'l':
		return "Content-Length"
	case 'm':
		return "Contact"
	case 'n':
		return "Identity-Info"
	case 'o':
		return "Event"
	case 'r':
		return "Refer-To"
	case 's':
		return "Subject"
	case 't':
		return "To"
	case 'u':
		return "Allow-Events"
	case 'v':
		return "Via"
	case 'x':
		return "Session-Expires"
	case 'y':
		return "Identity"
	}
	return name
}

// headerLister is implemented by sipgo's Request and Response.
type headerLister interface {
	Headers() []sip.Header
}

// Header returns the value of the first header called name (case-insensitive;
// compact and long forms are equivalent), or "" if there is none.
func (m *Message) Header(name string) string {
	if hs := m.Headers(name); len(hs) > 0 {
		return hs[0]
	}
	return ""
}

// Headers returns the values of all headers called name (case-insensitive;
// compact and long forms are equivalent), in message order. Headers sipgo
// splits at commas (Via, Contact, ...) come back one value each.
func (m *Message) Headers(name string) []string {
	hl, ok := m.SIP.(headerLister)
	if !ok {
		return nil
	}
	want := longName(name)
	var out []string
	for _, h := range hl.Headers() {
		if strings.EqualFold(longName(h.Name()), want) {
			out = append(out, h.Value())
		}
	}
	return out
}

// HeaderLookup returns Headers of the SIP message raw, which it parses at
// its first use, once: what keeps a message as captured, not parsed, uses
// it to look up any header.
func HeaderLookup(raw []byte) func(name string) []string {
	var m *Message
	parsed := false
	return func(name string) []string {
		if !parsed {
			parsed = true
			m, _ = Parse(raw)
		}
		if m == nil {
			return nil
		}
		return m.Headers(name)
	}
}

// strayCRs returns raw with every CR of its header section that is not
// followed by LF replaced by sub, a control byte raw does not contain; ok
// is false when there is no such CR (or no free byte).
func strayCRs(raw []byte) (fixed []byte, sub byte, ok bool) {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		end = len(raw)
	}
	stray := false
	for i := 0; i < end; i++ {
		if raw[i] == '\r' && (i+1 >= len(raw) || raw[i+1] != '\n') {
			stray = true
			break
		}
	}
	if !stray {
		return nil, 0, false
	}
	for c := byte(1); c < 0x20; c++ {
		if c == '\t' || c == '\n' || c == '\r' || bytes.IndexByte(raw, c) >= 0 {
			continue
		}
		fixed = append([]byte(nil), raw...)
		for i := 0; i < end; i++ {
			if fixed[i] == '\r' && (i+1 >= len(fixed) || fixed[i+1] != '\n') {
				fixed[i] = c
			}
		}
		return fixed, c, true
	}
	return nil, 0, false
}

// restore puts the stray CRs strayCRs replaced by sub back into the
// message's fields.
func (m *Message) restore(sub byte) {
	r := strings.NewReplacer(string(sub), "\r")
	for _, f := range []*string{&m.RequestURI, &m.RequestUser, &m.CallID, &m.Reason, &m.Contact,
		&m.From.Display, &m.From.User, &m.From.Host, &m.From.URI, &m.From.Tag,
		&m.To.Display, &m.To.User, &m.To.Host, &m.To.URI, &m.To.Tag} {
		*f = r.Replace(*f)
	}
}
