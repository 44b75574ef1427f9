package serialtest_test

import (
	"errors"
	"io"
	"testing"

	"spanrec/hal/serial"
	"spanrec/hal/serial/serialtest"
)

func TestFake(t *testing.T) {
	f := serialtest.New()
	go f.Peer().Write([]byte("help\r"))
	buf := make([]byte, 5)
	if _, err := io.ReadFull(f, buf); err != nil || string(buf) != "help\r" {
		t.Fatalf("read %q, %v", buf, err)
	}
	go f.Write([]byte("ok\n"))
	buf = make([]byte, 3)
	if _, err := io.ReadFull(f.Peer(), buf); err != nil || string(buf) != "ok\n" {
		t.Fatalf("peer read %q, %v", buf, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Read(buf); !errors.Is(err, serial.ErrClosed) {
		t.Errorf("Read after Close = %v", err)
	}
	if _, err := f.Peer().Read(buf); !errors.Is(err, io.EOF) {
		t.Errorf("peer Read after Close = %v", err)
	}

	g := serialtest.New()
	g.Peer().Close()
	if _, err := g.Read(buf); !errors.Is(err, io.EOF) {
		t.Errorf("Read after peer hung up = %v", err)
	}
}
