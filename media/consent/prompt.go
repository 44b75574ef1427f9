package consent

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"spanrec/media/wav"
)

// Errors of NewPrompt, LoadPromptWAV and DetectContext.
var (
	// ErrRate means the sample rate is not positive or above 384 kHz.
	ErrRate = errors.New("consent: bad sample rate")
	// ErrSilent means the prompt audio has no sound.
	ErrSilent = errors.New("consent: prompt is silent")
	// ErrTooShort means the prompt's sound is shorter than MinPrompt.
	ErrTooShort = errors.New("consent: prompt too short")
	// ErrTooLong means the prompt's sound is longer than MaxPrompt.
	ErrTooLong = errors.New("consent: prompt too long")
	// ErrChannel means the channel is not one of the recording's.
	ErrChannel = errors.New("consent: bad channel")
)

const (
	// Threshold is the Score from which a prompt counts as heard.
	Threshold = 0.7
	// MinPrompt and MaxPrompt bound the length of a prompt's sound.
	MinPrompt = 500 * time.Millisecond
	MaxPrompt = 60 * time.Second
	// MaxClip is how much of the prompt's start may be missing from the
	// recording (the prompt started before the recording did).
	MaxClip = 500 * time.Millisecond
)

// Detection parameters in samples at Rate.
const (
	segLen     = Rate / 2   // refinement piece: 0.5 s
	slip       = Rate / 50  // each piece may move by one 20 ms packet
	clipLen    = Rate / 2   // MaxClip in samples
	candidates = 3          // peaks refined
	minPower   = 4.0        // mean square below which a window is silence
	trimFrame  = Rate / 100 // 10 ms frames for trimming
	trimRatio  = 0.01       // frames 40 dB below the loudest are silence
	maxRate    = 384000     // highest accepted prompt sample rate
	fftMin     = 4096       // smallest transform
)

// Result is the outcome of a search for the prompt.
type Result struct {
	// Heard is Score >= Threshold.
	Heard bool
	// Offset is where the prompt's first sound is in the recording
	// (negative: its start was before the recording's).
	Offset time.Duration
	// Score is the normalised correlation of the prompt with the recording
	// there: 1 identical, about 0 unrelated.
	Score float64
	// Channel is the channel the prompt was found on (0 for mono).
	Channel int
}

// segment is a piece of the prompt used in refinement.
type segment struct {
	off, n int
}

// Prompt is a registered consent prompt, ready for detection. It is
// immutable and safe for concurrent use.
type Prompt struct {
	p      []float64 // band-limited, trimmed, at Rate
	energy float64   // Σ p²
	fft    *fftPlan
	spec   []complex128 // conj(FFT(p)), zero-padded to fft.n
	segs   []segment
}

// NewPrompt prepares the prompt audio pcm (mono, sampleRate Hz): resampled
// to 8 kHz, band-limited and trimmed of silence at both ends.
func NewPrompt(pcm []int16, sampleRate int) (*Prompt, error) {
	x := make([]float64, len(pcm))
	for i, s := range pcm {
		x[i] = float64(s)
	}
	return newPrompt(x, sampleRate)
}

// LoadPromptWAV reads a 16-bit PCM WAV file (mono or multi-channel, mixed
// to mono; any sample rate) and prepares it as NewPrompt does.
func LoadPromptWAV(path string) (*Prompt, error) {
	w, err := wav.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("consent: load prompt: %w", err)
	}
	ch := max(w.Channels, 1)
	x := make([]float64, w.Frames())
	for i := range x {
		var s float64
		for c := range ch {
			s += float64(w.Samples[i*ch+c])
		}
		x[i] = s / float64(ch)
	}
	p, err := newPrompt(x, w.SampleRate)
	if err != nil {
		return nil, fmt.Errorf("consent: prompt %s: %w", path, err)
	}
	return p, nil
}

// newPrompt prepares mono audio x at rate.
func newPrompt(x []float64, rate int) (*Prompt, error) {
	if rate <= 0 || rate > maxRate {
		return nil, fmt.Errorf("%w: %d Hz", ErrRate, rate)
	}
	x = resample(x, rate, Rate)
	bandLimit(x)
	x, err := trim(x)
	if err != nil {
		return nil, err
	}
	d := samplesToDuration(len(x))
	switch {
	case d < MinPrompt:
		return nil, fmt.Errorf("%w: %v of sound, need %v", ErrTooShort, d, MinPrompt)
	case d > MaxPrompt:
		return nil, fmt.Errorf("%w: %v of sound, at most %v", ErrTooLong, d, MaxPrompt)
	}
	var mean float64
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	p := &Prompt{p: x}
	for i := range x {
		x[i] -= mean
		p.energy += x[i] * x[i]
	}
	n := fftMin
	for n < 2*len(x) {
		n <<= 1
	}
	p.fft = newFFT(n)
	p.spec = make([]complex128, n)
	for i, v := range x {
		p.spec[i] = complex(v, 0)
	}
	p.fft.forward(p.spec)
	for i, v := range p.spec {
		p.spec[i] = complex(real(v), -imag(v))
	}
	for off := 0; off < len(x); off += segLen {
		n := min(segLen, len(x)-off)
		if n < segLen/2 && len(p.segs) > 0 {
			p.segs[len(p.segs)-1].n += n
			break
		}
		p.segs = append(p.segs, segment{off: off, n: n})
	}
	return p, nil
}

// trim drops the frames at both ends that are 40 dB below the loudest.
func trim(x []float64) ([]float64, error) {
	frames := len(x) / trimFrame
	rms := make([]float64, frames)
	var peak float64
	for f := range rms {
		var s float64
		for _, v := range x[f*trimFrame : (f+1)*trimFrame] {
			s += v * v
		}
		rms[f] = math.Sqrt(s / trimFrame)
		peak = max(peak, rms[f])
	}
	if peak < 1 {
		return nil, ErrSilent
	}
	first, last := 0, frames-1
	for rms[first] < peak*trimRatio {
		first++
	}
	for rms[last] < peak*trimRatio {
		last--
	}
	return x[first*trimFrame : (last+1)*trimFrame], nil
}

// Duration is the length of the prompt's sound.
func (p *Prompt) Duration() time.Duration { return samplesToDuration(len(p.p)) }

// Detect searches a mono 8 kHz recording for the prompt starting within its
// first searchSeconds (or up to MaxClip before it).
func (p *Prompt) Detect(recording []int16, searchSeconds float64) Result {
	r, _ := p.DetectContext(context.Background(), recording, 1, 0, searchSeconds)
	return r
}

// DetectChannel searches channel ch of an interleaved recording with
// channels channels, as Detect does. A bad channel gives a zero Result.
func (p *Prompt) DetectChannel(interleaved []int16, channels, ch int, searchSeconds float64) Result {
	r, _ := p.DetectContext(context.Background(), interleaved, channels, ch, searchSeconds)
	return r
}

// DetectStereo searches both channels of an interleaved stereo recording
// (left = caller, right = callee) and returns the better result.
func (p *Prompt) DetectStereo(interleaved []int16, searchSeconds float64) Result {
	l := p.DetectChannel(interleaved, 2, 0, searchSeconds)
	r := p.DetectChannel(interleaved, 2, 1, searchSeconds)
	if r.Score > l.Score {
		return r
	}
	return l
}

// DetectContext searches channel ch of an interleaved recording with
// channels channels for the prompt starting within its first searchSeconds.
// It stops early with ctx's error when ctx is cancelled.
func (p *Prompt) DetectContext(ctx context.Context, interleaved []int16, channels, ch int, searchSeconds float64) (Result, error) {
	if channels < 1 || ch < 0 || ch >= channels {
		return Result{}, fmt.Errorf("%w: %d of %d", ErrChannel, ch, channels)
	}
	total := len(interleaved) / channels
	search := 0
	if searchSeconds > 0 { // also false for NaN
		search = int(math.Min(searchSeconds*Rate, float64(total)))
	}
	L := len(p.p)
	frames := min(total, search+L+slip)
	// x: MaxClip of silence, then the recording's start, band-limited.
	x := make([]float64, clipLen+frames)
	for i := range frames {
		x[clipLen+i] = float64(interleaved[i*channels+ch])
	}
	bandLimit(x[clipLen:])
	maxLag := min(clipLen+search, len(x)-L)
	if maxLag < 0 {
		return Result{Channel: ch}, nil
	}
	ps := make([]float64, len(x)+1)
	for i, v := range x {
		ps[i+1] = ps[i] + v*v
	}

	ncc, err := p.correlate(ctx, x, ps, maxLag)
	if err != nil {
		return Result{}, err
	}
	best := Result{Channel: ch, Score: math.Inf(-1)}
	for range candidates {
		lag, c := -1, 0.0
		for i, v := range ncc {
			if v > c {
				lag, c = i, v
			}
		}
		if lag < 0 {
			break
		}
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		if s := p.refine(x, ps, lag); s > best.Score {
			best.Score, best.Offset = s, samplesToDuration(lag-clipLen)
		}
		for i := max(lag-L/2, 0); i <= min(lag+L/2, maxLag); i++ {
			ncc[i] = 0
		}
	}
	if math.IsInf(best.Score, -1) {
		best.Score = 0
	}
	best.Heard = best.Score >= Threshold
	return best, nil
}

// correlate returns the normalised correlation of the prompt with x at
// every lag 0..maxLag (overlap-save; two blocks per complex transform: the
// first in the real part, the second in the imaginary part).
func (p *Prompt) correlate(ctx context.Context, x, ps []float64, maxLag int) ([]float64, error) {
	L, n := len(p.p), p.fft.n
	block := n - L + 1 // valid lags per block
	ncc := make([]float64, maxLag+1)
	buf := make([]complex128, n)
	at := func(i int) float64 {
		if i < len(x) {
			return x[i]
		}
		return 0
	}
	for start := 0; start <= maxLag; start += 2 * block {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for i := range buf {
			buf[i] = complex(at(start+i), at(start+block+i))
		}
		p.fft.forward(buf)
		for i, s := range p.spec {
			buf[i] *= s
		}
		p.fft.inverse(buf)
		for j := range block {
			for half, c := range [2]float64{real(buf[j]), imag(buf[j])} {
				lag := start + half*block + j
				if lag > maxLag {
					break
				}
				ex := ps[lag+L] - ps[lag]
				if ex > minPower*float64(L) {
					ncc[lag] = c / math.Sqrt(ex*p.energy)
				}
			}
		}
	}
	return ncc, nil
}

// refine scores the prompt at lag, letting each segment move by up to slip
// samples: the correlation of the pieces so placed over the product of
// their energies.
func (p *Prompt) refine(x, ps []float64, lag int) float64 {
	var sc, sx float64
	for _, s := range p.segs {
		ref := p.p[s.off : s.off+s.n]
		bestC, bestX, bestN := 0.0, 0.0, math.Inf(-1)
		for d := -slip; d <= slip; d++ {
			at := lag + s.off + d
			if at < 0 || at+s.n > len(x) {
				continue
			}
			ex := ps[at+s.n] - ps[at]
			if ex <= minPower*float64(s.n) {
				continue
			}
			c := dot(x[at:at+s.n], ref)
			if v := c / math.Sqrt(ex); v > bestN {
				bestC, bestX, bestN = c, ex, v
			}
		}
		sc += bestC
		sx += bestX
	}
	if sx == 0 || sc <= 0 {
		return 0
	}
	return sc / math.Sqrt(sx*p.energy)
}

// dot is the inner product of a and b (len(b) <= len(a)).
func dot(a, b []float64) float64 {
	a = a[:len(b)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(b); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(b); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}

// samplesToDuration converts a sample count at Rate to a duration.
func samplesToDuration(n int) time.Duration {
	return time.Duration(n) * time.Second / Rate
}
