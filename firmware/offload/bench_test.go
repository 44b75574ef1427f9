package offload

import (
	"context"
	"fmt"
	"os"
	"testing"
)

// BenchmarkDirOffload copies, verifies and marks one 8 MiB recording per
// iteration into a directory target (write + read-back + rename).
func BenchmarkDirOffload(b *testing.B) {
	share := b.TempDir()
	src := &testSource{DataDir: DataDir(b.TempDir()), marked: map[string]string{}, deleted: map[string]bool{}}
	if err := os.MkdirAll(string(src.DataDir)+"/keys", 0o700); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(string(src.DataDir)+"/keys/spanrec.pub", []byte("pub\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	o, err := New(dirConfig(share), src, nil)
	if err != nil {
		b.Fatal(err)
	}
	const size = 8 << 20
	data := randBytes(b, size)
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		it := src.addBytes(b, fmt.Sprintf("20261125T090000Z-%08x", i), data)
		b.StartTimer()
		rep, err := o.RunOnce(context.Background())
		if err != nil || rep.Copied != 1 {
			b.Fatal(rep, err)
		}
		b.StopTimer()
		os.Remove(share + "/" + it.File)
		b.StartTimer()
	}
}
