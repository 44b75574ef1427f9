package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"spanrec/firmware/calls"
	"spanrec/firmware/capture"
	"spanrec/firmware/sipflow"
)

// Stats counts what went through the pipeline.
type Stats struct {
	Frames       uint64
	Bytes        uint64
	UDP          uint64
	TCP          uint64
	RTP          uint64 // datagrams that belonged to a call's media
	SIP          uint64 // SIP messages parsed
	SIPErrors    uint64 // SIP-looking payloads that failed to parse
	Unmatched    uint64 // UDP that was neither known media nor SIP
	SourceErrors uint64
}

// Pipeline decodes frames and drives the call tracker.
type Pipeline struct {
	dec     *capture.Decoder
	tcp     *sipflow.TCPAssembler
	tracker *calls.Tracker
	log     *slog.Logger
	pkt     capture.Packet
	frame   capture.Frame
	emit    func(raw []byte)
	stats   Stats
	// OnSecond, if set, is called once per second of capture time with the
	// time of the packet that crossed the second.
	OnSecond func(now time.Time)
	// nextTick is when (in capture time) the TCP reassembler next expires
	// idle streams and stale gaps.
	nextTick time.Time
}

// New returns a Pipeline feeding tracker.
func New(dec *capture.Decoder, tcp *sipflow.TCPAssembler, tracker *calls.Tracker, log *slog.Logger) *Pipeline {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Pipeline{dec: dec, tcp: tcp, tracker: tracker, log: log}
	p.emit = p.handleSIP
	return p
}

// Stats returns the counters.
func (p *Pipeline) Stats() Stats { return p.stats }

// Run reads src until it ends (nil) or ctx is cancelled (ctx.Err()). A
// corrupt capture file stops the run with an error after everything before
// the damage was processed.
func (p *Pipeline) Run(ctx context.Context, src capture.Source) error {
	done := ctx.Done()
	for {
		select {
		case <-done:
			return ctx.Err()
		default:
		}
		err := src.ReadFrame(&p.frame)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			p.stats.SourceErrors++
			return fmt.Errorf("read capture: %w", err)
		}
		p.HandleFrame(&p.frame)
	}
}

// HandleFrame processes one captured frame.
func (p *Pipeline) HandleFrame(f *capture.Frame) {
	p.stats.Frames++
	p.stats.Bytes += uint64(len(f.Data))
	if !p.dec.Decode(f, &p.pkt) {
		return
	}
	pkt := &p.pkt
	if !pkt.Time.Before(p.nextTick) {
		p.nextTick = pkt.Time.Add(time.Second)
		p.tcp.Tick(pkt.Time, p.emit)
		if p.OnSecond != nil {
			p.OnSecond(pkt.Time)
		}
	}
	switch pkt.Transport {
	case capture.UDP:
		p.stats.UDP++
		// SIP first: whatever an SDP claims, an address that carries SIP is
		// never taken for media (RTP fails LooksLikeSIP on its first byte).
		if sipflow.LooksLikeSIP(pkt.Payload) {
			p.handleSIP(pkt.Payload)
			return
		}
		if p.tracker.HandleMedia(pkt) {
			p.stats.RTP++
			return
		}
		p.stats.Unmatched++
	case capture.TCP:
		p.stats.TCP++
		if calls.LooksLikeTLS(pkt) {
			p.tracker.NoteTLS(pkt) // SIP over TLS: the calls cannot be read
			return
		}
		p.tcp.Feed(pkt, p.emit)
	}
}

func (p *Pipeline) handleSIP(raw []byte) {
	m, err := sipflow.Parse(raw)
	if err != nil {
		p.stats.SIPErrors++
		p.log.Debug("unparsable SIP", "src", p.pkt.Src, "dst", p.pkt.Dst, "err", err)
		return
	}
	p.stats.SIP++
	m.Time = p.pkt.Time
	m.Src = p.pkt.Src
	m.Dst = p.pkt.Dst
	m.Transport = p.pkt.Transport
	p.tracker.HandleSIP(m)
}
