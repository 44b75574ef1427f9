package index

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Pause is one interval during which recording was paused (for example for
// a card payment). End is the zero time while the pause is still running.
type Pause struct {
	// Start is when the pause began.
	Start time.Time
	// End is when recording resumed; zero while still paused.
	End time.Time
	// Source says who paused: "dtmf", "console:<user>" or "button".
	Source string
}

// StreamStats are the RTP counters of one media stream of a call.
type StreamStats struct {
	// Side is "caller" or "callee".
	Side string `json:"side"`
	// Source is the stream's source address, "ip:port".
	Source string `json:"source"`
	// Packets is the number of packets received.
	Packets uint64 `json:"packets"`
	// Lost is the number of packets never seen (sequence gaps).
	Lost uint64 `json:"lost"`
	// Duplicates is the number of packets seen more than once.
	Duplicates uint64 `json:"duplicates"`
	// Late is the number of packets that arrived too late to be played.
	Late uint64 `json:"late"`
	// SSRCChanges counts changes of the stream's SSRC.
	SSRCChanges uint64 `json:"ssrc_changes"`
	// ClockCorrectionMS is how far the stream was moved, in small steps,
	// to stay on the capture clock (positive: the sender's clock ran slow).
	ClockCorrectionMS float64 `json:"clock_correction_ms,omitempty"`
	// Quality is the stream's call quality; nil when its codec has no
	// E-model values (G.729, AMR, ...) or the entry predates it.
	Quality *Quality `json:"quality,omitempty"`
}

// Quality is one direction's call quality as the tap measured it (package
// media/quality): loss from sequence gaps, RFC 3550 jitter from the
// capture time, and the G.107 E-model's estimate.
type Quality struct {
	// MOS is the E-model's estimated mean opinion score (1..4.5, the
	// narrowband scale; G.711 without impairment is 4.41) and R its
	// transmission rating, for Codec.
	MOS   float64 `json:"mos"`
	R     float64 `json:"r"`
	Codec string  `json:"codec"`
	// Expected is how many packets the sequence numbers say were sent,
	// LossPercent the share of them never received.
	Expected    uint64  `json:"expected"`
	LossPercent float64 `json:"loss_percent"`
	// MaxLostRun is the longest run of consecutive packets lost; MaxGapMS
	// the longest time between two successive packets (a loss burst, a
	// hold, silence suppression).
	MaxLostRun uint64  `json:"max_lost_run"`
	MaxGapMS   float64 `json:"max_gap_ms"`
	// JitterMeanMS and JitterMaxMS are the RFC 3550 interarrival jitter's
	// mean over the packets and its maximum.
	JitterMeanMS float64 `json:"jitter_mean_ms"`
	JitterMaxMS  float64 `json:"jitter_max_ms"`
	// OutOfOrder counts packets that came behind a later one.
	OutOfOrder uint64 `json:"out_of_order"`
	// BurstR is the loss's burst ratio (1: random).
	BurstR float64 `json:"burst_r"`
	// DelayMS is the mouth-to-ear delay the estimate assumed
	// (packetisation, codec look-ahead, a jitter buffer of twice the
	// maximum jitter; the network's delay is not seen by the tap).
	DelayMS float64 `json:"delay_ms"`
}

// ForeignMedia is a source that sent to a call's media address but was kept
// out of the recording (not the side's own source: injected or stray).
type ForeignMedia struct {
	// Source is its address, "ip:port".
	Source string `json:"source"`
	// To is the side whose address it sent to, "caller" or "callee".
	To string `json:"to"`
	// Packets is how many packets it sent.
	Packets uint64 `json:"packets"`
}

// Call is one call the appliance saw, recorded or not.
//
// Its JSON form (MarshalJSON) writes zero times as null and other times as
// RFC 3339 in UTC, and Pauses as [] when empty; UnmarshalJSON reads that
// form back (times in UTC, empty lists as nil).
type Call struct {
	// ID is the time-sortable index key, e.g. "20261125T144422Z-3fa2c1d0"
	// (see NewID).
	ID string `json:"id"`
	// CallID is the SIP Call-ID.
	CallID string `json:"call_id"`
	// Caller is the user part (number) of the From header.
	Caller string `json:"caller"`
	// CallerName is the display name of the From header.
	CallerName string `json:"caller_name,omitempty"`
	// Callee is the user part of the To header.
	Callee string `json:"callee"`
	// CalleeName is the display name of the To header.
	CalleeName string `json:"callee_name,omitempty"`
	// Dialed is the number dialled: the user part of the To header of the
	// initial INVITE.
	Dialed string `json:"dialed"`
	// RequestURI is the Request-URI of the initial INVITE (after a proxy,
	// the contact it routed to).
	RequestURI string `json:"request_uri,omitempty"`
	// Direction is "inbound", "outbound" or "internal" when known.
	Direction string `json:"direction,omitempty"`
	// Start is when the INVITE was seen.
	Start time.Time `json:"start"`
	// Answer is when the 200 OK was seen; zero when unanswered.
	Answer time.Time `json:"answer"`
	// End is when the call ended; zero while it is running.
	End time.Time `json:"end"`
	// DurationS is the talk time in seconds (answer to end); 0 when
	// unanswered.
	DurationS float64 `json:"duration_s"`
	// Codec is the negotiated codec, e.g. "PCMA" (the codecs heard, in
	// order, when they changed: "PCMU,G722").
	Codec string `json:"codec"`
	// SampleRate is the recording's sample rate: 8000 for narrowband
	// calls, 16000 when a side was wideband (or as configured).
	SampleRate int `json:"sample_rate,omitempty"`
	// Recorded tells whether a recording file was written.
	Recorded bool `json:"recorded"`
	// Reason says why the call was not recorded; "" when it was.
	Reason string `json:"reason"`
	// EndReason says why the call ended, e.g. "bye", "cancel",
	// "media-timeout".
	EndReason string `json:"end_reason"`
	// Rule names the recording rule that decided.
	Rule string `json:"rule,omitempty"`
	// Status is the final SIP status code.
	Status int `json:"status,omitempty"`
	// File is the recording's path relative to the data directory, with
	// forward slashes, e.g. "recordings/2026/11/25/<id>.wav".
	File string `json:"file"`
	// SHA256 is the lowercase hex SHA-256 of the recording file.
	SHA256 string `json:"sha256"`
	// Size is the recording file's size in bytes.
	Size int64 `json:"size"`
	// Pauses are the intervals recording was paused.
	Pauses []Pause `json:"pauses"`
	// OneWay is set when media was seen in only one direction.
	OneWay bool `json:"one_way"`
	// SilentSide is "caller", "callee" or "both" when a side was silent.
	SilentSide string `json:"silent_side,omitempty"`
	// Incomplete is set when the recording misses part of the call (for
	// example after a restart).
	Incomplete bool `json:"incomplete"`
	// Part numbers the files of a call split into several recordings.
	Part int `json:"part,omitempty"`
	// Transport is the SIP transport, e.g. "udp" or "tcp".
	Transport string `json:"transport,omitempty"`
	// CallerAddr is the caller's media address, "ip:port".
	CallerAddr string `json:"caller_media,omitempty"`
	// CalleeAddr is the callee's media address, "ip:port".
	CalleeAddr string `json:"callee_media,omitempty"`
	// Streams are the per-stream RTP counters.
	Streams []StreamStats `json:"streams,omitempty"`
	// Trunk, Queue and Conference name what the call went through, when
	// the PBX configuration knows it.
	Trunk      string `json:"trunk,omitempty"`
	Queue      string `json:"queue,omitempty"`
	Conference string `json:"conference,omitempty"`
	// PromptHeard tells whether the consent prompt registered for the
	// call's direction was heard at its start; absent when none is
	// registered. PromptScore is the detector's score (0..1).
	PromptHeard *bool   `json:"prompt_heard,omitempty"`
	PromptScore float64 `json:"prompt_score,omitempty"`
	// Quarantined recordings (no consent prompt heard, when the admin asked
	// for it) stay on disk and in the index, visible only to admins.
	Quarantined bool `json:"quarantined,omitempty"`
	// Offloaded is when the recording was copied, verified, to Remote.
	Offloaded time.Time `json:"-"`
	Remote    string    `json:"remote,omitempty"`
	// Deleted is when the recording file was deleted from local storage,
	// and DeleteReason why (retention, quota, offloaded, admin). The entry
	// and its chain record stay.
	Deleted      time.Time `json:"-"`
	DeleteReason string    `json:"delete_reason,omitempty"`
	// Media is "raw" when File is raw media (pcapng): RTP of a codec that
	// is not decoded, a fax's UDPTL, encryption that cannot be read, with
	// the call's SIP; "" when File is a WAV.
	Media string `json:"media,omitempty"`
	// RawRTP is the raw media file (relative path) that goes with a WAV:
	// the part of the call's media that is not in it. RawID is the entry
	// that holds and signs it, RawOf (on that entry) the WAV's entry. An
	// entry still in progress names its raw file here until it is done.
	RawRTP string `json:"raw_rtp,omitempty"`
	RawID  string `json:"raw_id,omitempty"`
	RawOf  string `json:"raw_of,omitempty"`
	// Legs are the IDs of the other dialogs of the same call: an SBC or
	// B2BUA hop that kept the Call-ID.
	Legs []string `json:"legs,omitempty"`
	// ForeignMedia are the sources kept out of the recording.
	ForeignMedia []ForeignMedia `json:"foreign_media,omitempty"`
	// Flags are markers: no-media, fax, foreign-media, forked, ...
	// clock-before-build: the call's times are before the firmware's build
	// (the clock was not set yet), so they are not its date.
	Flags []string `json:"flags,omitempty"`
	// ClockSynced tells whether the appliance's clock was synchronised
	// to network time (the kernel's adjtimex state) when the entry was
	// written; nil when not known (an import, whose times are the
	// capture file's). ClockErrorMS is the kernel's estimated error then.
	ClockSynced  *bool   `json:"clock_synced,omitempty"`
	ClockErrorMS float64 `json:"clock_error_ms,omitempty"`
	// MOS is the worse direction's estimated MOS (Streams[i].Quality);
	// 0 when no direction was scored. A call below the configured
	// quality.poor_mos is flagged poor-quality.
	MOS float64 `json:"mos,omitempty"`
}

// FlagPoorQuality marks an entry whose MOS is below quality.poor_mos.
const FlagPoorQuality = "poor-quality"

// FlagClockBeforeBuild marks an entry whose times are before the
// firmware's build time: the clock was wrong, the times are not a date.
const FlagClockBeforeBuild = "clock-before-build"

// MediaRaw is the Media of an entry whose file is raw media.
const MediaRaw = "raw"

// Raw reports whether the entry's file is raw media rather than audio.
func (c *Call) Raw() bool { return c.Media == MediaRaw }

// RawWarning says, for people, why the entry holds raw media and not
// audio, naming the codecs and the encryption; "" for other entries.
func (c *Call) RawWarning() string {
	if !c.Raw() {
		return ""
	}
	var why []string
	for _, f := range c.Flags {
		if r, ok := strings.CutPrefix(f, "encrypted:"); ok {
			why = append(why, "encrypted ("+r+"), not decrypted")
		}
	}
	for _, name := range strings.Split(c.Codec, ",") {
		switch name {
		case "":
		case "T38":
			why = append(why, "T.38 fax (UDPTL)")
		default:
			if len(why) == 0 || !strings.HasPrefix(why[0], "encrypted") {
				why = append(why, name+" is not decoded")
			}
		}
	}
	if len(why) == 0 {
		why = append(why, "media that is not decoded")
	}
	what := "raw media, no audio file"
	if c.RawOf != "" {
		what = "raw media of " + c.RawOf
	}
	return what + ": " + strings.Join(why, "; ") + "; the signed pcapng holds the packets and the call's SIP (open it in Wireshark)"
}

// NewID returns a new time-sortable call ID for a call that started at t:
// the UTC second as "20060102T150405Z", a dash and 8 random hex digits.
func NewID(t time.Time) string {
	var r [4]byte
	_, _ = rand.Read(r[:]) // crypto/rand.Read never fails (Go >= 1.24).
	return t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(r[:])
}

// nullTime is a time.Time in JSON: null when zero, RFC 3339 UTC otherwise.
type nullTime time.Time

// MarshalJSON implements json.Marshaler.
func (n nullTime) MarshalJSON() ([]byte, error) {
	t := time.Time(n)
	if t.IsZero() {
		return []byte("null"), nil
	}
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("%w: year %d outside [0,9999]", ErrInvalid, y)
	}
	b := make([]byte, 0, len(time.RFC3339Nano)+2)
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *nullTime) UnmarshalJSON(data []byte) error {
	if bytes.Equal(data, []byte("null")) {
		*n = nullTime{}
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("%w: time: %w", ErrInvalid, err)
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return fmt.Errorf("%w: time: %w", ErrInvalid, err)
	}
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return fmt.Errorf("%w: time %q: year outside [0,9999]", ErrInvalid, s)
	}
	*n = nullTime(t)
	return nil
}

type pauseWire struct {
	Start  nullTime `json:"start"`
	End    nullTime `json:"end"`
	Source string   `json:"source"`
}

// MarshalJSON writes {"start","end","source"}; a zero time is null.
func (p Pause) MarshalJSON() ([]byte, error) {
	return marshalRaw(pauseWire{Start: nullTime(p.Start), End: nullTime(p.End), Source: p.Source})
}

// UnmarshalJSON reads the form written by MarshalJSON.
func (p *Pause) UnmarshalJSON(data []byte) error {
	w := pauseWire{Start: nullTime(p.Start), End: nullTime(p.End), Source: p.Source}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*p = Pause{Start: time.Time(w.Start), End: time.Time(w.End), Source: w.Source}
	return nil
}

// callAlias has Call's fields without its methods, so callWire can embed
// it without recursing into Call.MarshalJSON.
type callAlias Call

// callWire shadows Call's time fields and Pauses (the outer fields win
// over the embedded ones of the same JSON name).
type callWire struct {
	*callAlias
	Start  nullTime `json:"start"`
	Answer nullTime `json:"answer"`
	End    nullTime `json:"end"`
	Pauses []Pause  `json:"pauses"`
	// Offloaded and Deleted are left out while zero.
	Offloaded *nullTime `json:"offloaded,omitempty"`
	Deleted   *nullTime `json:"deleted,omitempty"`
}

func optTime(t time.Time) *nullTime {
	if t.IsZero() {
		return nil
	}
	n := nullTime(t)
	return &n
}

// MarshalJSON writes the call with zero times as null, other times as
// RFC 3339 UTC, and Pauses as [] when empty.
func (c Call) MarshalJSON() ([]byte, error) {
	a := callAlias(c)
	w := callWire{
		callAlias: &a,
		Start:     nullTime(c.Start),
		Answer:    nullTime(c.Answer),
		End:       nullTime(c.End),
		Pauses:    c.Pauses,
		Offloaded: optTime(c.Offloaded),
		Deleted:   optTime(c.Deleted),
	}
	if w.Pauses == nil {
		w.Pauses = []Pause{}
	}
	return marshalRaw(w)
}

// marshalRaw is json.Marshal without HTML escaping: the encoder that
// called MarshalJSON escapes the result if (and only if) it is set to.
func marshalRaw(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// UnmarshalJSON reads the form written by MarshalJSON. Times come back in
// UTC; empty or null lists (Pauses, Streams, Flags) come back as nil.
func (c *Call) UnmarshalJSON(data []byte) error {
	w := callWire{
		callAlias: (*callAlias)(c),
		Start:     nullTime(c.Start),
		Answer:    nullTime(c.Answer),
		End:       nullTime(c.End),
		Pauses:    c.Pauses,
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	c.Start, c.Answer, c.End = time.Time(w.Start), time.Time(w.Answer), time.Time(w.End)
	c.Offloaded, c.Deleted = time.Time{}, time.Time{}
	if w.Offloaded != nil {
		c.Offloaded = time.Time(*w.Offloaded)
	}
	if w.Deleted != nil {
		c.Deleted = time.Time(*w.Deleted)
	}
	c.Pauses = w.Pauses
	// Empty lists come back nil, as omitempty writes them.
	if len(c.Pauses) == 0 {
		c.Pauses = nil
	}
	if len(c.Streams) == 0 {
		c.Streams = nil
	}
	if len(c.Flags) == 0 {
		c.Flags = nil
	}
	if len(c.Legs) == 0 {
		c.Legs = nil
	}
	if len(c.ForeignMedia) == 0 {
		c.ForeignMedia = nil
	}
	return nil
}
