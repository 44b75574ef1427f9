// Package opustest reads the Ogg Opus files (RFC 7845) that tests take
// their Opus packets from, as opusenc and ffmpeg write them.
package opustest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
)

// File is an Ogg Opus file (RFC 7845) split into its audio packets.
type File struct {
	Channels int      // from OpusHead
	PreSkip  int      // samples at 48 kHz to drop at the start
	Packets  [][]byte // the audio packets, in order
}

// ReadFile reads the first logical stream of an Ogg Opus file and
// reassembles its packets from the pages' lacing values (RFC 3533 §6). It
// checks the page structure, not the CRCs: the fixtures are trusted files.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var pkts [][]byte
	var cur []byte
	for len(b) > 0 {
		if len(b) < 27 || !bytes.Equal(b[:4], []byte("OggS")) {
			return nil, fmt.Errorf("%s: bad Ogg page at %d bytes from the end", path, len(b))
		}
		nseg := int(b[26])
		if len(b) < 27+nseg {
			return nil, fmt.Errorf("%s: truncated Ogg page", path)
		}
		lacing := b[27 : 27+nseg]
		body := b[27+nseg:]
		for _, l := range lacing {
			if len(body) < int(l) {
				return nil, fmt.Errorf("%s: truncated Ogg segment", path)
			}
			cur = append(cur, body[:l]...)
			body = body[l:]
			if l < 255 { // a lacing value below 255 ends the packet
				pkts = append(pkts, cur)
				cur = nil
			}
		}
		b = body
	}
	if len(pkts) < 2 || !bytes.HasPrefix(pkts[0], []byte("OpusHead")) || len(pkts[0]) < 19 ||
		!bytes.HasPrefix(pkts[1], []byte("OpusTags")) {
		return nil, fmt.Errorf("%s: no OpusHead/OpusTags", path)
	}
	return &File{
		Channels: int(pkts[0][9]),
		PreSkip:  int(binary.LittleEndian.Uint16(pkts[0][10:])),
		Packets:  pkts[2:],
	}, nil
}

// ReadPCM reads a file of 16-bit little-endian samples.
func ReadPCM(path string) ([]int16, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pcm := make([]int16, len(b)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return pcm, nil
}
