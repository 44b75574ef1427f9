// Command importfloor does the work no importer of a G.711 capture can
// avoid, as plainly as it can be done, so that `spanrec import` can be
// measured against it (scripts/bench-import.sh): read the capture, decode
// each RTP payload with the G.711 table into the 16-bit samples of one file
// per call, both directions (no jitter buffer, no SIP, no interleaving, no
// index),
// write each file in 64 KiB blocks with one fsync, hash it with SHA-256 as
// it is written and sign the digest with Ed25519.
//
//	go run ./scripts/importfloor -o DIR capture.pcap
package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"log"
	"net/netip"
	"os"
	"path/filepath"

	"spanrec/firmware/capture"
	"spanrec/media/g711"
)

const blockSize = 64 << 10

// file is one output: its block buffer, running hash and file.
type file struct {
	f     *os.File
	h     hash.Hash
	block []byte
}

func (o *file) write(b []byte) error {
	for len(b) > 0 {
		n := copy(o.block[len(o.block):cap(o.block)], b)
		o.block, b = o.block[:len(o.block)+n], b[n:]
		if len(o.block) == cap(o.block) {
			if err := o.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (o *file) flush() error {
	o.h.Write(o.block)
	_, err := o.f.Write(o.block)
	o.block = o.block[:0]
	return err
}

func main() {
	out := flag.String("o", "", "output directory (required)")
	flag.Parse()
	if *out == "" || flag.NArg() != 1 {
		log.Fatal("usage: importfloor -o DIR capture.pcap")
	}
	n, pkts, err := run(flag.Arg(0), *out)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d files, %d RTP packets\n", n, pkts)
}

func run(path, dir string) (files, packets int, err error) {
	src, err := capture.OpenFile(path)
	if err != nil {
		return 0, 0, err
	}
	defer src.Close()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return 0, 0, err
	}
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		return 0, 0, err
	}
	dec := capture.NewDecoder(capture.DecoderConfig{})
	table := g711.NewULaw()
	// A call is its two media addresses, in either order.
	type pair struct{ a, b netip.AddrPort }
	outs := map[pair]*file{}
	pcm := make([]int16, 2048)
	raw := make([]byte, 4096)
	var f capture.Frame
	var p capture.Packet
	for {
		if err := src.ReadFrame(&f); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return 0, 0, err
		}
		if !dec.Decode(&f, &p) || p.Transport != capture.UDP || len(p.Payload) < 12 || p.Payload[0]>>6 != 2 || p.Dst.Port() == 5060 {
			continue
		}
		k := pair{p.Src, p.Dst}
		if k.b.Compare(k.a) < 0 {
			k.a, k.b = k.b, k.a
		}
		o := outs[k]
		if o == nil {
			fh, err := os.Create(filepath.Join(dir, fmt.Sprintf("%d.raw", len(outs))))
			if err != nil {
				return 0, 0, err
			}
			o = &file{f: fh, h: sha256.New(), block: make([]byte, 0, blockSize)}
			outs[k] = o
		}
		payload := p.Payload[12:]
		n := table.Decode(pcm, payload)
		b := raw[:2*n]
		for i, s := range pcm[:n] {
			b[2*i], b[2*i+1] = byte(s), byte(s>>8)
		}
		if err := o.write(b); err != nil {
			return 0, 0, err
		}
		packets++
	}
	for _, o := range outs {
		if err := o.flush(); err != nil {
			return 0, 0, err
		}
		if err := o.f.Sync(); err != nil {
			return 0, 0, err
		}
		ed25519.Sign(key, o.h.Sum(nil))
		if err := o.f.Close(); err != nil {
			return 0, 0, err
		}
	}
	return len(outs), packets, nil
}
