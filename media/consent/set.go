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

// Check searches an interleaved recording with channels channels (every
// channel: the prompt may be on either side) for the prompt of direction
// within its first searchSeconds. ok is false when no prompt is registered
// for direction; the call's "prompt heard" is then not applicable.
func (s *Set) Check(direction string, interleaved []int16, channels int, searchSeconds float64) (r Result, ok bool) {
	p := s.For(direction)
	if p == nil || channels < 1 {
		return Result{}, false
	}
	for ch := range channels {
		if c := p.DetectChannel(interleaved, channels, ch, searchSeconds); ch == 0 || c.Score > r.Score {
			r = c
		}
	}
	return r, true
}
