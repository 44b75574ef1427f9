/* oracle: decode an Ogg Opus file with libopus, as the reference output of
 * the fixtures. Usage: oracle in.opus rate out.s16
 *
 * Unlike opusdec, it opens the libopus decoder at the requested rate (8000,
 * 16000 or 48000) and one channel, exactly as media/opus.Decoder does, keeps
 * the pre-skip and the end padding (the tests compare whole packets), and
 * writes 16-bit little-endian mono PCM rounded to nearest. make.sh checks that
 * its 48 kHz output equals opusdec's after the pre-skip.
 */
#include <math.h>
#include <opus/opus.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char file[1 << 22];

int main(int argc, char **argv) {
	if (argc != 4) {
		fprintf(stderr, "usage: oracle in.opus rate out.s16\n");
		return 2;
	}
	FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[3], "wb");
	if (!in || !out) {
		perror("oracle");
		return 2;
	}
	size_t n = fread(file, 1, sizeof file, in);
	int err, rate = atoi(argv[2]);
	OpusDecoder *dec = opus_decoder_create(rate, 1, &err);
	if (err != OPUS_OK) {
		fprintf(stderr, "oracle: %s\n", opus_strerror(err));
		return 2;
	}
	static unsigned char pkt[65536];
	static float pcm[5760];
	size_t plen = 0, pos = 0;
	int index = 0;
	while (pos + 27 <= n && memcmp(file + pos, "OggS", 4) == 0) {
		int nseg = file[pos + 26];
		size_t data = pos + 27 + nseg;
		for (int i = 0; i < nseg; i++) {
			int l = file[pos + 27 + i];
			memcpy(pkt + plen, file + data, l);
			plen += l;
			data += l;
			if (l == 255)
				continue;
			if (index++ >= 2) { /* skip OpusHead and OpusTags */
				int got = opus_decode_float(dec, pkt, plen, pcm, 5760, 0);
				if (got < 0) {
					fprintf(stderr, "oracle: packet %d: %s\n", index - 3, opus_strerror(got));
					return 1;
				}
				for (int j = 0; j < got; j++) {
					float f = pcm[j] * 32768.0f;
					long v = lrintf(f);
					if (v > 32767) v = 32767;
					if (v < -32768) v = -32768;
					int16_t s = (int16_t)v;
					fwrite(&s, 2, 1, out);
				}
			}
			plen = 0;
		}
		pos = data;
	}
	fclose(out);
	opus_decoder_destroy(dec);
	return 0;
}
