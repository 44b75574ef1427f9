package daemon

import (
	"io"
	"net/netip"
	"testing"
	"time"

	"spanrec/firmware/calls"
	"spanrec/firmware/config"
	"spanrec/firmware/offload"
)

// TestOptionsFrom: every section of a configuration reaches the package
// that owns it.
func TestOptionsFrom(t *testing.T) {
	cfg := config.DefaultFor(nil)
	cfg.DataDir = t.TempDir()
	cfg.Interfaces = []string{"span0"}
	cfg.Capture.Promiscuous, cfg.Capture.RingMB, cfg.Capture.ExcludeHosts = false, 16, []string{"192.0.2.9"}
	cfg.Calls.MediaTimeout, cfg.Calls.MaxDuration = config.Duration(45*time.Second), config.Duration(time.Hour)
	cfg.NATAliases = calls.NATAliases{{SDP: "10.0.0.1", Seen: "203.0.113.1"}}
	cfg.Storage.MaxMB, cfg.Storage.MaxDays, cfg.Storage.BlockKB = 100, 7, 128
	cfg.Recording.SampleRate = "16000"
	cfg.Hardware.StatusLED, cfg.Hardware.WatchdogTimeout = "status", config.Duration(20*time.Second)
	cfg.Metrics.Listen = "127.0.0.1:9273"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	o, err := OptionsFrom(cfg, "1.2.3", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	e := o.Engine
	switch {
	case e.DataDir != cfg.DataDir || e.Recorder.Software != "spanrec 1.2.3" || e.Recorder.SampleRate != 16000 || e.Recorder.BlockSize != 128<<10:
		t.Errorf("engine/recorder: %+v", e)
	case e.Calls.MediaTimeout != 45*time.Second || e.Calls.MaxCalls != 4000 || e.MaxDuration != time.Hour || e.FlushInterval != time.Second:
		t.Errorf("calls: %+v, max duration %v", e.Calls, e.MaxDuration)
	case len(e.Calls.Aliases[netip.MustParseAddr("203.0.113.1")]) != 1 || len(e.Decoder.Inner.ExcludeHosts) != 1:
		t.Errorf("aliases %v, decoder %+v", e.Calls.Aliases, e.Decoder)
	case !o.Live.NoPromisc || o.Live.RingBytes != 16<<20 || o.Live.Interfaces[0] != "span0":
		t.Errorf("live: %+v", o.Live)
	case o.Storage.MaxBytes != 100<<20 || o.Storage.MaxAge != 7*24*time.Hour || o.Storage.MinFreeBytes != 256<<20:
		t.Errorf("storage: %+v", o.Storage)
	case o.Hardware.StatusLED != "status" || o.Hardware.WatchdogTimeout.Std() != 20*time.Second || o.Metrics.Listen != "127.0.0.1:9273":
		t.Errorf("hardware %+v, metrics %+v", o.Hardware, o.Metrics)
	case o.Offload != nil || o.SocketPath != cfg.DataDir+"/spanrec.sock" || o.Version != "1.2.3":
		t.Errorf("offload %v, socket %s, version %s", o.Offload, o.SocketPath, o.Version)
	}
	cfg.Offload = offload.Config{Kind: offload.KindDir, Path: "/mnt/share"}
	if o, _ := OptionsFrom(cfg, "1.2.3", io.Discard); o.Offload == nil || o.Offload.Path != "/mnt/share" {
		t.Errorf("offload: %+v", o.Offload)
	}
}
