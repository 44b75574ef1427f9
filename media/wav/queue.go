package wav

import (
	"sync"
	"sync/atomic"
)

// A Queue writes the sample data of many Writers on a goroutine of its
// own, in the order it was queued, so that the goroutine that produces the
// audio (a capture loop) hands over a copy and goes on instead of waiting
// for the kernel to take the bytes into its page cache. Writers attached
// with UseQueue copy what they would have written into the queue's chunks;
// a write that fails is reported by the writer's next call, and its later
// queued writes are dropped, so the file holds exactly what was written
// before the failure. Finishing or closing a Writer (and Sync) first waits
// for its queued writes.
//
// Writes are packed into the chunks one after another (a page of one call
// after a page of the next), so the queue holds its chunks' worth of audio
// whatever the size of each write, not one write per chunk.
type Queue struct {
	mu  sync.Mutex
	cur []queuedWrite // queued, not yet handed to the goroutine
	// fill is the chunk writes are being copied into and used how much of
	// it is taken; it goes back on free once the goroutine has made every
	// write in it (a release entry queued after the last).
	fill []byte
	used int
	// batches go to the goroutine a batchLen at a time (waking it once
	// for all of them) and come back empty on spare.
	batches chan []queuedWrite
	spare   chan []queuedWrite
	free    chan []byte // chunks not holding a queued write
	done    chan struct{}
	closed  atomic.Bool
	once    sync.Once
}

// batchLen is how many writes wake the queue's goroutine once.
const batchLen = 16

// queuedWrite is one write (data, part of a chunk), or, with w nil, the
// release of chunk, or a marker the queue closes when it reaches it.
type queuedWrite struct {
	w      *Writer
	off    int64
	data   []byte
	chunk  []byte
	marker chan struct{}
}

// NewQueue starts a queue with chunks buffers of chunkSize bytes (at least
// one of minBlockSize): the most it holds before a writer waits for it.
func NewQueue(chunks, chunkSize int) *Queue {
	chunks, chunkSize = max(chunks, 1), max(chunkSize, minBlockSize)
	nb := chunks/batchLen + 3
	q := &Queue{
		batches: make(chan []queuedWrite, nb),
		spare:   make(chan []queuedWrite, nb),
		free:    make(chan []byte, chunks),
		done:    make(chan struct{}),
	}
	for range chunks {
		q.free <- make([]byte, chunkSize)
	}
	q.cur = make([]queuedWrite, 0, batchLen+2)
	for range nb - 1 {
		q.spare <- make([]queuedWrite, 0, batchLen+2)
	}
	go q.run()
	return q
}

func (q *Queue) run() {
	defer close(q.done)
	for b := range q.batches {
		for i := range b {
			j := &b[i]
			switch {
			case j.w != nil:
				if j.w.queueErr() == nil {
					if err := writeTwoAt(j.w.f, j.data, nil, j.off); err != nil {
						j.w.failQueued(err, j.off)
					}
				}
			case j.chunk != nil:
				q.free <- j.chunk
			default:
				close(j.marker)
			}
			*j = queuedWrite{}
		}
		q.spare <- b[:0]
	}
}

// handOver (with mu held) gives the queued writes to the goroutine.
func (q *Queue) handOver() {
	if len(q.cur) == 0 {
		return
	}
	q.batches <- q.cur
	q.cur = <-q.spare
}

// Wait returns once every write queued before it has been made.
func (q *Queue) Wait() {
	m := make(chan struct{})
	q.mu.Lock()
	if q.closed.Load() {
		q.mu.Unlock()
		return
	}
	q.cur = append(q.cur, queuedWrite{marker: m})
	q.handOver()
	q.mu.Unlock()
	<-m
}

// Close makes the writes queued so far and stops the queue. Writers still
// attached to it write directly from then on.
func (q *Queue) Close() {
	q.once.Do(func() {
		q.mu.Lock()
		q.handOver()
		q.closed.Store(true)
		close(q.batches)
		q.mu.Unlock()
		<-q.done
	})
}

// put queues a then b, contiguous at off in w's file, copied into as many
// chunks as they need, and reports whether it did (not once the queue is
// closed). It makes no allocation.
func (q *Queue) put(w *Writer, a, b []byte, off int64) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed.Load() {
		return false
	}
	for len(a)+len(b) > 0 {
		if q.used == len(q.fill) {
			q.nextChunk()
		}
		room := q.fill[q.used:]
		n := copy(room, a)
		a = a[n:]
		if len(a) == 0 {
			k := copy(room[n:], b)
			b, n = b[k:], n+k
		}
		q.cur = append(q.cur, queuedWrite{w: w, off: off, data: room[:n:n]})
		q.used += n
		off += int64(n)
		if len(q.cur) >= batchLen {
			q.handOver()
		}
	}
	return true
}

// nextChunk (with mu held) releases the chunk being filled, once its
// writes are made, and takes a free one, waiting for the goroutine to free
// one if there is none.
func (q *Queue) nextChunk() {
	if q.fill != nil {
		q.cur = append(q.cur, queuedWrite{chunk: q.fill})
	}
	select {
	case q.fill = <-q.free:
	default:
		q.handOver() // the chunks may all be waiting in cur
		q.fill = <-q.free
	}
	q.used = 0
}
