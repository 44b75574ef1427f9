package offload

import (
	"context"
	"time"

	"spanrec/firmware/clock"
)

// limiter is a token bucket: rate bytes per second, holding at most
// burst bytes. It serves one goroutine.
type limiter struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

// newLimiter returns a limiter for bytesPerSec, or nil (no limit) for 0.
// The bucket holds an eighth of a second of traffic (between 1 KiB and
// 256 KiB), so waits stay short and smooth.
func newLimiter(bytesPerSec int64, now func() time.Time) *limiter {
	if bytesPerSec <= 0 {
		return nil
	}
	burst := float64(bytesPerSec) / 8
	burst = min(max(burst, 1<<10), 256<<10)
	return &limiter{rate: float64(bytesPerSec), burst: burst, tokens: burst, last: now(), now: now}
}

// chunk is the largest write the limiter lets through at once.
func (l *limiter) chunk() int { return int(l.burst) }

// wait blocks until n bytes (n <= chunk()) may be sent, or ctx ends.
func (l *limiter) wait(ctx context.Context, n int) error {
	now := l.now()
	l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	l.last = now
	l.tokens -= float64(n)
	if l.tokens >= 0 {
		return nil
	}
	return clock.Sleep(ctx, time.Duration(-l.tokens/l.rate*float64(time.Second)))
}
