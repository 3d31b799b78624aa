#ifndef CPPROFSHIM_H
#define CPPROFSHIM_H
// What Swift cannot do well with protobuf-c: decoding with a bump allocator.
// protobuf-c allocates every message, repeated field and string separately; a
// 1M-sample profile makes millions of malloc calls. The arena turns them into
// pointer bumps, frees everything at once, and caps the total so that a
// hostile profile cannot make us allocate without bound.
#include <stddef.h>
#include <stdint.h>
#include "profile.pb-c.h"

typedef struct CPprofShim_Arena CPprofShim_Arena;

typedef struct CPprofShim_Decoded {
  Perftools__Profiles__Profile *profile; // NULL on failure
  CPprofShim_Arena *arena;               // always freed with CPprofShim_free
  int limitExceeded;                     // 1 when the arena cap stopped the decode
  size_t arenaBytes;                     // bytes handed out by the arena
} CPprofShim_Decoded;

/// Decodes `len` bytes of a serialized perftools.profiles.Profile.
/// At most `maxArenaBytes` are allocated for the decoded messages.
CPprofShim_Decoded CPprofShim_decode(const uint8_t *data, size_t len, size_t maxArenaBytes);

/// Releases everything CPprofShim_decode allocated.
void CPprofShim_free(CPprofShim_Decoded *decoded);

#endif
