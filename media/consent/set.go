package consent

// Set holds the prompts the PBX plays on internal, inbound and outbound
// calls; a nil prompt means none is registered for that direction.
type Set struct {
	Internal, Inbound, Outbound *Prompt
}

// For returns the prompt registered for direction ("internal", "inbound"
// or "outbound"), or nil.
func (s *Set) For(direction string) *Prompt {
	if s == nil {
		return nil
	}
	switch direction {
	case "internal":
		return s.Internal
	case "inbound":
		return s.Inbound
	case "outbound":
		return s.Outbound
	}
	return nil
}

// Check searches an interleaved recording with channels channels at rate
// Hz (every channel: the prompt may be on either side) for the prompt of
// direction within its first searchSeconds. ok is false when no prompt is
// registered for direction; the call's "prompt heard" is then not
// applicable. Recordings at other rates than Rate are converted first.
func (s *Set) Check(direction string, interleaved []int16, channels, rate int, searchSeconds float64) (r Result, ok bool) {
	p := s.For(direction)
	if p == nil || channels < 1 || rate <= 0 {
		return Result{}, false
	}
	if rate != Rate {
		interleaved = toRate(interleaved, channels, rate)
	}
	for ch := range channels {
		if c := p.DetectChannel(interleaved, channels, ch, searchSeconds); ch == 0 || c.Score > r.Score {
			r = c
		}
	}
	return r, true
}

// toRate converts an interleaved recording at rate to Rate.
func toRate(interleaved []int16, channels, rate int) []int16 {
	frames := len(interleaved) / channels
	var out []int16
	for ch := range channels {
		x := make([]float64, frames)
		for i := range x {
			x[i] = float64(interleaved[i*channels+ch])
		}
		y := resample(x, rate, Rate)
		if out == nil {
			out = make([]int16, len(y)*channels)
		}
		for i, v := range y {
			if i*channels+ch < len(out) {
				out[i*channels+ch] = int16(max(-32768, min(32767, v)))
			}
		}
	}
	return out
}
