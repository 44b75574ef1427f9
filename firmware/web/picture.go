package web

import (
	"bytes"
	"fmt"
	"image/png"
	"net/http"
	"sync"
	"time"

	"spanrec/firmware/index"
	"spanrec/media/waveform"
)

// pictureCacheSize is how many recordings' pictures are kept (a picture
// is some kilobytes).
const pictureCacheSize = 32

// pictures keeps the last few recordings' pictures, keyed by ID and
// SHA-256.
type pictures struct {
	mu    sync.Mutex
	png   map[string][]byte
	order []string
}

func newPictures() *pictures {
	return &pictures{png: make(map[string][]byte)}
}

func (p *pictures) get(key string) ([]byte, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, ok := p.png[key]
	return b, ok
}

func (p *pictures) put(key string, b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.png[key]; ok {
		return
	}
	if len(p.order) == pictureCacheSize {
		delete(p.png, p.order[0])
		p.order = p.order[1:]
	}
	p.order = append(p.order, key)
	p.png[key] = b
}

// picture serves the PNG of a recording's two channels
// (waveform.Render): for the people who may play it, not for raw media.
func (s *Server) picture(w http.ResponseWriter, r *http.Request) {
	c, ok := s.lookup(w, r)
	if !ok {
		return
	}
	if c.Raw() {
		s.error(w, r, http.StatusNotFound, "raw media has no picture: it holds packets, not audio")
		return
	}
	key := c.ID + "/" + c.SHA256
	b, ok := s.pictures.get(key)
	if !ok {
		var err error
		if b, err = s.renderPicture(r, &c); err != nil {
			s.fail(w, r, "picture", err)
			return
		}
		s.pictures.put(key, b)
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, no-cache")
	w.Header().Set("ETag", `"`+c.SHA256+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}

func (s *Server) renderPicture(r *http.Request, c *index.Call) ([]byte, error) {
	release, err := s.work(r)
	if err != nil {
		return nil, err
	}
	defer release()
	f, err := s.rec.Open(identityOf(r).Role, c.ID)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	img, _, err := waveform.Render(r.Context(), f, st.Size(), waveform.Options{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.ID, err)
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// work waits for the web UI's one slot of work that reads a whole
// recording (a picture, a verification), so the web UI never takes more
// than one core and one stream of flash reads from the capture.
func (s *Server) work(r *http.Request) (release func(), err error) {
	select {
	case s.heavy <- struct{}{}:
		return func() { <-s.heavy }, nil
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
}
