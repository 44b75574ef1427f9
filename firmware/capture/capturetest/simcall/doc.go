// Package simcall generates captures of SIP calls for tests: the SIP
// dialog (INVITE, 180/183, 200, ACK, re-INVITE, BYE or CANCEL/486) and
// both directions of G.711 RTP carrying given audio, over UDP or TCP, IPv4
// or IPv6, with VLAN tags, IP fragments, loss, reordering and duplicated
// packets — written as pcap or pcapng through capturetest. It records what
// it generated (answer and end times, what each side sent) so tests can
// check a recording against it.
package simcall
