package engine

import (
	"slices"
	"time"

	"spanrec/firmware/clock"
	"spanrec/firmware/index"
	"spanrec/firmware/recorder"
)

// clockIndex stamps each entry the recorder writes with the clock's
// state (clock_synced, clock_error_ms) and flags one dated before the
// firmware's build (the clock was not set): before the entry is chained,
// so the hash covers the stamp.
type clockIndex struct {
	recorder.Index
	src   clock.Source
	floor time.Time
}

func (x clockIndex) stamp(c *index.Call) {
	if c.ClockSynced != nil {
		return // stamped before its WAV was finished: the WAV says the same
	}
	st, err := x.src.State()
	if err == nil {
		synced := st.Synced
		c.ClockSynced = &synced
		c.ClockErrorMS = float64(st.EstError) / float64(time.Millisecond)
	}
	t := c.Start
	if t.IsZero() {
		t = c.Answer
	}
	if !t.IsZero() && !clock.Trusted(t, x.floor) && !slices.Contains(c.Flags, index.FlagClockBeforeBuild) {
		c.Flags = append(c.Flags, index.FlagClockBeforeBuild)
		f := false
		c.ClockSynced = &f // whatever the kernel says now, the call's clock was not
	}
}

func (x clockIndex) Put(c *index.Call) error {
	x.stamp(c)
	return x.Index.Put(c)
}

func (x clockIndex) PutBatch(cs []*index.Call) error {
	for _, c := range cs {
		x.stamp(c)
	}
	return x.Index.PutBatch(cs)
}

func (x clockIndex) AddRecording(c *index.Call) error {
	x.stamp(c)
	return x.Index.AddRecording(c)
}

func (x clockIndex) AddRecordings(cs []*index.Call) error {
	for _, c := range cs {
		x.stamp(c)
	}
	return x.Index.AddRecordings(cs)
}
