// Command gencalls writes a capture of many concurrent generated G.711
// calls (SIP + RTP both ways) for load tests and capacity measurements:
//
//	go run ./scripts/gencalls -calls 1000 -talk 30s -o load.pcap
//
// Callers are 192.0.2.1 and callees 192.0.2.2 by default (the SPAN lab's
// hosts), each call on its own media ports.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/netip"
	"os"
	"sort"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest/simcall"
)

func main() {
	calls := flag.Int("calls", 100, "concurrent calls")
	talk := flag.Duration("talk", 20*time.Second, "talk time of each call")
	stagger := flag.Duration("stagger", 5*time.Millisecond, "time between call starts")
	out := flag.String("o", "calls.pcap", "output pcap file")
	callerIP := flag.String("caller", "192.0.2.1", "caller address")
	calleeIP := flag.String("callee", "192.0.2.2", "callee address")
	flag.Parse()
	if err := run(*calls, *talk, *stagger, *out, netip.MustParseAddr(*callerIP), netip.MustParseAddr(*calleeIP)); err != nil {
		log.Fatal(err)
	}
}

func run(n int, talk, stagger time.Duration, out string, caller, callee netip.Addr) error {
	if n > 14000 {
		return fmt.Errorf("at most 14000 calls (media ports)")
	}
	audio := simcall.LoadAudio(int(talk.Seconds() + 1))
	start := time.Now().UTC().Truncate(time.Second)
	var all []simcall.Packet
	rtp := 0
	for i := 0; i < n; i++ {
		r := simcall.Generate(simcall.Call{
			CallID:      fmt.Sprintf("load-%d@gencalls", i),
			CallerNum:   fmt.Sprint(100000 + i),
			CalleeNum:   fmt.Sprint(200000 + i),
			CallerSIP:   netip.AddrPortFrom(caller, 5060),
			CalleeSIP:   netip.AddrPortFrom(callee, 5060),
			CallerRTP:   netip.AddrPortFrom(caller, uint16(10000+4*i)),
			CalleeRTP:   netip.AddrPortFrom(callee, uint16(10000+4*i)),
			CallerAudio: audio, CalleeAudio: audio,
			Start: start.Add(time.Duration(i) * stagger),
			Talk:  talk,
		}, simcall.Options{})
		for _, p := range r.Packets {
			if p.RTP {
				rtp++
			}
		}
		all = append(all, r.Packets...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w, err := capture.NewPcapWriter(f, capture.LinkEthernet)
	if err != nil {
		return err
	}
	if err := (&simcall.Result{Packets: all}).WriteTo(w, simcall.Options{}); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Printf("%s: %d calls, %d packets (%d RTP), %.0f RTP packets/s at full concurrency\n",
		out, n, len(all), rtp, float64(n)*100)
	return nil
}
