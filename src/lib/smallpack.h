/*
 * smallpack: a listpack stripped of everything that can be recomputed, for
 * small aggregates stored inside a key's entry (core/entry.h).
 *
 * A listpack spends, besides its payload, a 6-byte header (total bytes,
 * element count), a terminator byte and one back-length byte per element
 * (two past 127 bytes). The header and terminator make it self-describing
 * and the back-lengths make it walkable from the end; an inline value needs
 * neither while it is at rest: its length is already stored by the entry,
 * and readers get a real listpack decoded from it. A smallpack is just the
 * listpack's elements, each as its listpack <encoding+data>, back to back:
 *
 *   <encoding+data> <encoding+data> ...        (no header, no backlen, no end)
 *
 * For a hash of ten fields "f0".."f9" with values like "v1234567" that is
 * 120 bytes instead of 147: the key's entry drops from 165 to 137 bytes,
 * under jemalloc's 160-byte class instead of in the 192-byte one.
 *
 * Why keep listpack's element encodings rather than a plain length+bytes
 * form: decoding is then exact for every valid listpack (integer elements
 * stay integers with the same width, strings stay strings even if they
 * look like numbers), so a decoded value is byte-identical to the one that
 * was encoded, with no canonical-form assumptions; and listpack's integer
 * encodings are already the compact ones (a counter of 0..127 is one byte).
 * The cost is one byte more than length+bytes for strings of 64..4095
 * bytes, which are rare in a value this small.
 *
 * The price of the form is a decode on every read and an encode on every
 * write: O(size), into a buffer the caller provides. Measured on the hash
 * above (callgrind, pipelined): about 1,200 instructions per decode, so
 * HGET costs ~30% more instructions and an in-place HSET ~40% more (decode,
 * then encode); without pipelining the system calls dominate and requests
 * per second move by a few percent at most.
 *
 * Element boundaries come from the encoding byte alone, so the decoder
 * checks every element against the input's end and against the output's
 * capacity, and rejects the encodings a listpack never uses: malformed
 * input is reported, never read or written past.
 */
#ifndef KEEL_SMALLPACK_H
#define KEEL_SMALLPACK_H

#include <stddef.h>

/* Writes the smallpack form of the listpack lp (lplen bytes) into dst
 * (cap bytes; dst NULL only measures) and its size into *out. Returns 0 if
 * lp is not a well-formed listpack of lplen bytes (checked in the same
 * pass: element bounds, back-lengths, header total and count, terminator)
 * or its smallpack form needs more than cap bytes (dst is then left in an
 * unspecified state). */
int smallpack_encode(unsigned char *dst, size_t cap, const unsigned char *lp, size_t lplen, size_t *out);

/* Bytes of the listpack that sp (len bytes) decodes to, or 0 if sp is
 * malformed. */
size_t smallpack_listpack_size(const unsigned char *sp, size_t len);

/* Decodes sp (len bytes) into the listpack at dst (cap bytes). Returns the
 * listpack's size, or 0 if sp is malformed or the listpack needs more than
 * cap bytes (dst is then left in an unspecified state). */
size_t smallpack_decode(unsigned char *dst, size_t cap, const unsigned char *sp, size_t len);

/* Walking a smallpack in place: the element at offset off of sp (len
 * bytes) is a listpack <encoding+data>, readable with lp_get/lp_compare.
 * Returns its size; 0 at the end or if it is malformed. */
size_t smallpack_element_size(const unsigned char *sp, size_t len, size_t off);

#endif
