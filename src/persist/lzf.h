/*
 * lzf: a compressor and decompressor for the LZF format (liblzf's), the
 * one Redis uses for compressed strings in RDB files (rdbcompression).
 *
 * The format is a sequence of runs, each starting with a control byte c:
 *   c < 32:   a literal run: the next c + 1 bytes are copied as they are;
 *   c >= 32:  a back-reference: length L = c >> 5 (if L == 7, L += the
 *             next byte), offset O = ((c & 31) << 8) + the next byte;
 *             copy L + 2 bytes starting O + 1 bytes behind the output.
 * The window is 8 KB; references may overlap their own output (runs).
 *
 * Written from the format description: a hash of the next three bytes
 * finds the last position they occurred at; a match of three or more
 * bytes within the window becomes a reference, everything else literals.
 */
#ifndef KEEL_LZF_H
#define KEEL_LZF_H

#include <stddef.h>

/* Compress in into out (capacity outcap). Returns the compressed length,
 * or 0 when it does not fit in outcap (the caller then stores the input
 * uncompressed). */
size_t lzf_compress(const void *in, size_t inlen, void *out, size_t outcap);
/* Decompress into out (capacity outcap). Returns the decompressed length,
 * or 0 on malformed input or when the output would not fit. Safe on any
 * input bytes. */
size_t lzf_decompress(const void *in, size_t inlen, void *out, size_t outcap);

#endif
