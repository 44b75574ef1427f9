// Package capturetest builds synthetic captures for tests: complete
// link-layer frames carrying UDP datagrams (whole or as IP fragments) and TCP
// segments over IPv4 or IPv6, in any link type package capture decodes, with
// optional 802.1Q/802.1ad tags, and a Writer that stores them as pcap or
// pcapng. It owns nothing at run time; only tests import it.
//
// The frame builders panic on a programming error in the test (mismatched
// address families, a link type they cannot frame); they never see untrusted
// input.
package capturetest
