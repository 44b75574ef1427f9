package labtest_test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"spanrec/firmware/labtest"
)

// The switch mirrors every frame entering it from any host port exactly
// once, hosts and addresses as chosen, and its namespaces are gone after
// the test.
func TestSwitchMirrorsEveryFrameOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("live lab test")
	}
	var prefix string
	t.Run("switch", func(t *testing.T) {
		sw := labtest.NewSwitch(t, "x=198.51.100.1", "y=198.51.100.2/24", "z=198.51.100.3")
		prefix = sw.Prefix
		received := make(chan string, 100)
		for _, name := range []string{"x", "y", "z"} {
			h := sw.Host(name)
			sink, err := h.ListenPacketIn("udp", h.Addr.String()+":9999")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sink.Close() })
			go func() {
				buf := make([]byte, 1500)
				for {
					n, _, err := sink.ReadFrom(buf)
					if err != nil {
						return
					}
					received <- string(buf[:n])
				}
			}()
		}
		c := sw.StartCapture(t, "udp")
		sent := map[string]int{}
		total := 0
		for _, flow := range []struct {
			from, to string
			n        int
		}{{"x", "y", 5}, {"y", "z", 3}, {"z", "x", 2}} {
			src, dst := sw.Host(flow.from), sw.Host(flow.to)
			conn, err := src.DialIn("udp", fmt.Sprintf("%s:9999", dst.Addr))
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < flow.n; i++ {
				if _, err := fmt.Fprintf(conn, "labtest %s>%s %d", flow.from, flow.to, i); err != nil {
					t.Fatal(err)
				}
			}
			conn.Close()
			sent[src.Addr.String()+">"+dst.Addr.String()] = flow.n
			total += flow.n
		}
		for i := 0; i < total; i++ { // the switch delivers them all
			select {
			case <-received:
			case <-time.After(labtest.Timeout):
				t.Fatalf("%d of %d datagrams delivered", i, total)
			}
		}
		pcap := c.Stop()
		out, err := exec.Command("tshark", "-n", "-r", pcap, "-Y", "udp.dstport == 9999", "-T", "fields", "-e", "ip.src", "-e", "ip.dst").Output()
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if f := strings.Fields(l); len(f) == 2 {
				seen[f[0]+">"+f[1]]++
			}
		}
		t.Logf("datagrams sent %v, seen on %s %v", sent, labtest.SpanIface, seen)
		if fmt.Sprint(seen) != fmt.Sprint(sent) {
			t.Errorf("mirror saw %v, want each datagram once: %v", seen, sent)
		}
		if out, _ := sw.Rec.Command("ip", "-br", "link", "show", labtest.SpanIface).CombinedOutput(); !strings.Contains(string(out), labtest.SpanIface) {
			t.Errorf("no %s in %s: %s", labtest.SpanIface, sw.Rec.NS, out)
		}
	})
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	if prefix != "" && strings.Contains(string(out), prefix+"-") {
		t.Errorf("namespaces of %s left after the test:\n%s", prefix, out)
	}
}
