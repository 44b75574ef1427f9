// Package labtest runs real SIP user agents and a real proxy on a
// software switch with a mirror port, for live tests of what the appliance
// sees on a SPAN port: baresip 1.0, linphonec 5.1 and kamailio 5.6 (Debian's
// baresip, linphone-cli and kamailio) in network namespaces, every frame
// they send into the switch copied once to [SpanIface] in a recorder
// namespace. It is imported only by _test.go files; its functions take the
// test and fail or skip it themselves.
//
// # Basics
//
//	sw := labtest.NewSwitch(t) // hosts a b c d (192.0.2.1-4) and p (192.0.2.10)
//	k := labtest.StartKamailio(t, sw.Host("p"), labtest.KamailioConfig{Password: "secret"})
//	alice := labtest.StartBaresip(t, sw.Host("a"), labtest.BaresipConfig{User: "alice", Proxy: k})
//	bob := labtest.StartLinphone(t, sw.Host("b"), labtest.LinphoneConfig{User: "bob", Proxy: k, AutoAnswer: true})
//	alice.WaitRegistered()
//	bob.WaitRegistered()
//	c := sw.StartCapture(t, "call") // tcpdump on span0
//	alice.Dial(bob.URI())
//	bob.WaitEstablished()
//	alice.WaitEstablished()
//	time.Sleep(6 * time.Second) // the call's length, not a synchronisation
//	alice.Hangup()
//	bob.WaitClosed()
//	pcap := c.Stop()
//	msgs := labtest.SIPMessages(t, pcap)  // tshark, the independent oracle
//	streams := labtest.RTPStreams(t, pcap)
//
// The recorder itself runs where the mirror port is:
// sw.Rec.Command("spanrec", "run", "--iface", labtest.SpanIface, ...).
//
// The pieces:
//   - [NewSwitch] calls scripts/span-switch.sh: namespaces PREFIX-NAME for
//     the hosts, PREFIX-sw (the bridge), PREFIX-rec (span0), with a prefix
//     unique to the process and test; they are removed in t.Cleanup, and
//     those of dead test processes are swept on the next run.
//   - [StartKamailio] generates kamailio.cfg from kamailio.cfg.tmpl
//     (registrar with usrloc in memory, so two registrations of one user
//     fork in parallel; record_route; digest auth against one password;
//     UDP and TCP on 5060), checks it with kamailio -c and waits until it
//     listens.
//   - [StartBaresip] and [StartLinphone] write a config dir (and HOME for
//     linphonec), pick ports that do not clash with other agents on the
//     host, play a fixture and record what they receive; with SRTP set,
//     both use SDES-SRTP, mandatory (RTP/SAVP, a=crypto keys in the SDP).
//     Both are [Phone]s.
//   - [Speech] makes the fixtures: espeak-ng speech, a different sentence
//     and voice per speaker, at the rate each codec needs (8 kHz mono for
//     G.711, 16 kHz for G.722, 48 kHz stereo for Opus), repeated to
//     [FixtureLength], cached per test binary.
//   - [Switch.StartCapture] runs tcpdump on span0; [Capture.Stop] makes sure
//     every frame is in the file before stopping it.
//   - [SIPMessages], [RTPStreams] and [DTMFDigits] read a capture with tshark.
//
// # Waiting
//
// Nothing sleeps for a state: each peer's output is kept line by line
// ([Proc]), and the waits block until the line that says so appears, or
// fail the test after [Timeout] with the tail of the peer's log. Each wait
// has its own cursor ([Proc.Next]), so WaitEstablished twice waits for two
// calls, however early the first came; commands that get an answer (Hold,
// Resume) wait for it after the moment they were sent ([Proc.After]).
// Waits must run in the test's goroutine. Every peer's log is in the test's
// temp dir (or $LABTEST_LOGS/TEST, kept), and its tail is printed when the
// test fails.
//
// # Caveats
//
// The peers are real-time programs: on a loaded machine they send fewer
// packets than a call's length suggests, and linphonec's recording, which
// passes its jitter buffer, matches what was sent less exactly than
// baresip's. Assert on what was sent (baresip's RTPCounts and Sent, the
// played fixture), never on timing.
//
// Peer quirks the package works around, each commented where it is
// handled: baresip 1.0 has no file player (what it received comes from the
// sndfile filter's decode dump, which ends at the first re-INVITE it
// answers), names G.722 G722/16000/1, and prints no "terminated" line for a
// call cancelled while ringing. linphonec binds dual-stack sockets, needs
// its data dir and a default route, names the peer in its call lines with
// its display name when it has one (a linphonec caller), puts a GRUU in its Contact unless the
// registrar gives none (kamailio's gruu_enabled is off), sends STUN pings
// on its RTP port (tshark then needs its RTP heuristics to see the stream
// coming back), blocks for a second on each DTMF digit, cannot pause while
// an INFO transaction is pending, and writes WAV headers with wrong sizes
// (Received returns a repaired copy). tcpdump loses what it has not read
// when stopped, hence the marker frame (ethertype 0x88b5) at the end of
// every capture.
package labtest
