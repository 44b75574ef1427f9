// Package ledstate decides what the front-panel LEDs show, as pure logic on
// top of hal/led.
//
// The status LED shows what happens to calls: idle (slow blink, 1 s on /
// 1 s off), recording (steady on), paused (fast blink, 100 ms / 100 ms;
// paused wins over recording). The fault LED shows trouble: steady on for a
// fault that stops recording (capture link down, no SIP seen), slow blink
// when only warnings are present (storage near full, offload failing,
// hostile traffic, clock not synchronised), off
// when all is well. SelfTest cycles every LED for the technician.
package ledstate
