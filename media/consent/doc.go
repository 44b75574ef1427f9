// Package consent owns the check of SPEC §5: was the PBX's consent prompt
// ("this call may be recorded…") heard near the start of a recording?
//
// The admin registers the audio the PBX plays (a WAV file, any rate, mono
// or stereo); NewPrompt / LoadPromptWAV turn it into a Prompt: mixed to
// mono, resampled to 8 kHz (windowed sinc), band-limited to the telephone
// band (200–3400 Hz), trimmed of leading and trailing silence. Prompt.Detect
// searches the first seconds of one channel of a recording for it.
//
// # Method
//
// Detection is a normalised cross-correlation (NCC) of the band-limited
// prompt with the band-limited recording at every lag, computed with a
// radix-2 FFT (overlap-save, two blocks per complex transform), divided by
// the energy of the recording under the prompt, so the level of the
// recording does not matter. The best three peaks are refined segment by
// segment: each 0.5 s piece of the prompt may shift by up to one 20 ms
// packet (160 samples) from where the peak puts it, which absorbs jitter
// buffer slips and small timing offsets. The Score is the NCC of the whole
// prompt with the pieces so placed: 1 for an identical signal at any level.
// In the tests (espeak-ng speech through G.711 µ-law and A-law, 3% of the
// 20 ms packets zeroed, −6 to −20 dB) the prompt scores at least 0.97, and
// 0.92–0.95 with 10% loss, a 20 ms slip inside it or the other party's
// voice mixed in at −12 dB; other speech and synthetic babble score at
// most 0.24, the prompt's sentence with one word changed 0.47 and the same
// sentence spoken by another synthetic voice 0.64. Heard is Score ≥
// Threshold (0.7): a missing prompt wrongly counted as heard would let a
// recording without consent through, so the threshold sits nearer the
// positives (margin 0.2) than the unrelated speech (margin 0.45). The
// prompt may also start up to MaxClip (0.5 s) before the recording (a
// clipped start; Offset is then negative).
//
// Searching the first 30 s of a call for a 5 s prompt takes about 40 ms of
// CPU on an x86-64 server core (BenchmarkDetect) and 8.6 MB of scratch
// memory; NewPrompt about 20 ms.
//
// A Prompt is immutable and safe for concurrent use; Set holds the prompts
// of internal, inbound and outbound calls.
package consent
