package opus

import (
	"fmt"
	"testing"
)

// BenchmarkDecode decodes the 20 ms packets of a fixture in a loop: one op is
// one packet. %realtime is the share of one core a stream of that kind needs.
func BenchmarkDecode(b *testing.B) {
	for _, name := range []string{"silk-nb-20-m", "silk-wb-20-m", "silk-wb-20-fec-m", "hyb-fb-20-m", "celt-fb-20-m", "celt-fb-20-s"} {
		ogg := loadFixture(b, name)
		for _, rate := range []int{8000, 16000, 48000} {
			b.Run(fmt.Sprintf("%s/%d", name, rate), func(b *testing.B) {
				d, err := NewDecoder(rate)
				if err != nil {
					b.Fatal(err)
				}
				dst := make([]int16, maxPacketSamples48)
				for _, p := range ogg.Packets { // buffers grow to their final size
					if _, err := d.Decode(dst, p); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, err := d.Decode(dst, ogg.Packets[i]); err != nil {
						b.Fatal(err)
					}
					if i++; i == len(ogg.Packets) {
						i = 0
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/20e6*100, "%realtime")
			})
		}
	}
}

func BenchmarkParsePacket(b *testing.B) {
	p := loadFixture(b, "hyb-fb-60-m").Packets[5]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePacket(p); err != nil {
			b.Fatal(err)
		}
	}
}
