// Package jitter places the packets of one RTP stream on a call's
// wall-clock timeline: it drops duplicates (a SPAN port may mirror a packet
// twice), tolerates reordering, counts loss, and re-anchors the stream when
// its SSRC changes or its timestamps jump, so that gaps become silence at
// the right place and both directions of a call stay aligned.
//
// Positions are sample indexes at the stream's clock rate, counted from the
// timeline's origin (for a recording: the moment the call was answered).
package jitter
