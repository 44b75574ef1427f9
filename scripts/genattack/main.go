// Command genattack writes a capture of one of the resource attacks of
// issue 12 (firmware/capture/capturetest/simcall/attack.go) with one real call in the middle
// of it, for measuring the appliance under attack:
//
//	go run ./scripts/genattack -attack spoofed -n 6000 -o spoofed.pcap
//	go run ./scripts/genattack -attack hugesdp -n 2000 -o hugesdp.pcap
//	go run ./scripts/genattack -attack tcp -n 1000 -o tcp.pcap
//
// The attack lasts 20 s; the real call (Call-ID real@genattack) runs from
// 11 s to 19 s in the middle of it, with the sample audio of testdata/.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"spanrec/firmware/capture/capturetest/simcall"
)

func main() {
	attack := flag.String("attack", "spoofed", "spoofed (INVITE/200/ACK without RTP), hugesdp (INVITEs with a 62 KB SDP) or tcp (SIP-over-TCP headers that never end)")
	n := flag.Int("n", 1000, "attackers (dialogs or streams)")
	out := flag.String("o", "attack.pcap", "output pcap file")
	audioDir := flag.String("testdata", "testdata", "folder with sample_caller.ulaw and sample_callee.ulaw")
	flag.Parse()
	if err := run(*attack, *n, *out, *audioDir); err != nil {
		log.Fatal(err)
	}
}

func run(attack string, n int, out, audioDir string) error {
	caller, err := os.ReadFile(audioDir + "/sample_caller.ulaw")
	if err != nil {
		return err
	}
	callee, err := os.ReadFile(audioDir + "/sample_callee.ulaw")
	if err != nil {
		return err
	}
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	pkts, err := simcall.Attack(attack, n, start)
	if err != nil {
		return err
	}
	real := simcall.Generate(simcall.Call{CallID: "real@genattack", CallerAudio: caller, CalleeAudio: callee, Start: start.Add(11 * time.Second)}, simcall.Options{})
	all := simcall.Merge(pkts, real.Packets)
	if err := simcall.WritePcap(out, all); err != nil {
		return err
	}
	fmt.Printf("%s: %s x %d, %d packets, real call real@genattack\n", out, attack, n, len(all))
	return nil
}
