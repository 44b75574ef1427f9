package quality

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Codec is what the E-model needs of a codec.
type Codec struct {
	// Name is the codec's RTP encoding name ("PCMU", "G722", "opus").
	Name string
	// Ie is the equipment impairment factor without loss and Bpl the
	// packet-loss robustness factor, on the narrowband scale of G.107
	// (R up to 93.2) or, when Wideband, on the wideband scale of
	// G.107.1 (R up to 129).
	Ie, Bpl  float64
	Wideband bool
	// Lookahead is the codec's algorithmic delay beyond one packet.
	Lookahead time.Duration
}

// The codecs the recorder decodes, with where their values come from.
var (
	// G711 with packet-loss concealment (G.711 Appendix I): ITU-T G.113
	// Appendix I, Ie = 0, Bpl = 25.1 (random loss). Phones conceal loss;
	// without it Bpl would be 4.3.
	G711 = Codec{Name: "G711", Ie: 0, Bpl: 25.1}
	// G722 at 64 kbit/s: ITU-T G.113 (11/2007) Appendix IV gives Ie,wb =
	// 13 on the wideband scale. Its Bpl with concealment (G.722 Appendix
	// III/IV) is taken as 10: a provisional value, not a G.113 one.
	G722 = Codec{Name: "G722", Ie: 13, Bpl: 10, Wideband: true}
	// Opus (wideband speech, about 24 kbit/s, with its concealment) is not
	// in G.113: Ie,wb = 11 and Bpl = 20 are provisional estimates from
	// published E-model fits of Opus, its 6.5 ms look-ahead from RFC 6716.
	Opus = Codec{Name: "opus", Ie: 11, Bpl: 20, Wideband: true, Lookahead: 6500 * time.Microsecond}
)

// CodecFor returns the E-model values of an RTP encoding name; false for a
// codec without values (G.729, AMR, ...: not scored).
func CodecFor(encoding string) (Codec, bool) {
	switch strings.ToUpper(encoding) {
	case "PCMU", "PCMA":
		c := G711
		c.Name = strings.ToUpper(encoding)
		return c, true
	case "G722":
		return G722, true
	case "OPUS":
		return Opus, true
	}
	return Codec{}, false
}

// DefaultPoorMOS is the MOS below which a call is of poor quality: about
// R 60, where G.107 Annex B has "many users dissatisfied".
const DefaultPoorMOS = 3.1

// Score is an E-model estimate.
type Score struct {
	// R is the transmission rating on the narrowband scale (0..100; a
	// wideband R divided by 1.29).
	R float64
	// MOS is R mapped by G.107 Annex B (1..4.5).
	MOS float64
	// Delay is the estimated mouth-to-ear delay the delay term used.
	Delay time.Duration
}

// Default basic signal-to-noise ratio less simultaneous impairments
// (Ro − Is) with G.107's default parameters, and its wideband
// counterpart of G.107.1.
const (
	rNarrowband  = 93.2
	rWideband    = 129
	wideToNarrow = 1.29
)

// JitterBuffer is the receiving phone's buffer as the delay term assumes
// it: twice the maximum jitter measured, and at least one packet.
func JitterBuffer(st Stats) time.Duration {
	jb := time.Duration(2 * st.JitterMaxMS * float64(time.Millisecond))
	return max(jb, ptime(st))
}

func ptime(st Stats) time.Duration {
	if st.Ptime > 0 {
		return st.Ptime
	}
	return 20 * time.Millisecond
}

// MouthToEar is the delay the estimate assumes: one packet of
// packetisation, the codec's look-ahead and the jitter buffer. Delay in
// the network between the tap and each phone is not seen and not added.
func MouthToEar(st Stats, c Codec) time.Duration {
	return ptime(st) + c.Lookahead + JitterBuffer(st)
}

// Estimate rates a direction with the E-model (ITU-T G.107):
//
//	R = (Ro − Is) − Id − Ie,eff (A = 0)
//	Ie,eff = Ie + (Rmax' − Ie) · Ppl / (Ppl/BurstR + Bpl)   (G.107 §7.2; Rmax' is 95, or 129 wideband)
//	Id = Idd(Ta), the delay impairment of G.107 §7.3 with Ta the mouth-to-ear delay
//	       (echo terms Idte, Idle left out: echo-cancelling phones, default TELR)
//	MOS = 1 + 0.035R + R(R − 60)(100 − R)·7·10⁻⁶ (0 < R < 100; G.107 Annex B)
func Estimate(st Stats, c Codec) Score {
	ppl := 100 * st.LossRatio()
	burst := st.BurstR
	if burst <= 0 {
		burst = 1
	}
	ro, top := rNarrowband, 95.0
	if c.Wideband {
		ro, top = rWideband, rWideband
	}
	ieEff := c.Ie
	if ppl > 0 {
		ieEff += (top - c.Ie) * ppl / (ppl/burst + c.Bpl)
	}
	ta := MouthToEar(st, c)
	r := ro - Idd(ta) - ieEff
	if c.Wideband {
		r /= wideToNarrow
	}
	return Score{R: r, MOS: MOS(r), Delay: ta}
}

// Idd is the E-model's impairment of an absolute one-way delay ta (G.107
// §7.3): none up to 100 ms.
func Idd(ta time.Duration) float64 {
	ms := float64(ta) / float64(time.Millisecond)
	if ms <= 100 {
		return 0
	}
	x := math.Log10(ms/100) / math.Log10(2)
	return 25 * (math.Pow(1+math.Pow(x, 6), 1.0/6) - 3*math.Pow(1+math.Pow(x/3, 6), 1.0/6) + 2)
}

// MOS maps an R factor to the mean opinion score (G.107 Annex B), 1 to
// 4.5.
func MOS(r float64) float64 {
	switch {
	case r <= 0:
		return 1
	case r >= 100:
		return 4.5
	}
	// The polynomial dips just below 1 for R under 6.5: held at 1.
	return max(1, 1+0.035*r+r*(r-60)*(100-r)*7e-6)
}

// Config is the configuration's quality section.
type Config struct {
	// PoorMOS is the MOS below which a call is flagged poor-quality
	// (default DefaultPoorMOS); 1 flags none.
	PoorMOS float64 `yaml:"poor_mos"`
}

// ErrPoorMOS is Validate's error for a threshold off the MOS scale.
var ErrPoorMOS = errors.New("quality: poor_mos must be a MOS from 1 to 4.5")

// Validate checks the threshold.
func (c Config) Validate() error {
	if math.IsNaN(c.PoorMOS) || c.PoorMOS < 1 || c.PoorMOS > 4.5 {
		return fmt.Errorf("%w, got %v", ErrPoorMOS, c.PoorMOS)
	}
	return nil
}
