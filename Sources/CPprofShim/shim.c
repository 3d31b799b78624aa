#include "CPprofShim.h"
#include <stdlib.h>
#include <string.h>

enum { CPPROFSHIM_CHUNK = 4 << 20 };

typedef struct Chunk {
  struct Chunk *next;
  size_t size;
  size_t used;
  _Alignas(16) unsigned char data[];
} Chunk;

struct CPprofShim_Arena {
  Chunk *head;
  size_t handedOut;
  size_t reserved;
  size_t cap;
  int limitExceeded;
};

static void *arena_alloc(void *ctx, size_t size) {
  CPprofShim_Arena *a = ctx;
  size = (size + 15) & ~(size_t)15;
  if (size == 0) size = 16;
  Chunk *c = a->head;
  if (c == NULL || c->size - c->used < size) {
    size_t want = size > CPPROFSHIM_CHUNK ? size : CPPROFSHIM_CHUNK;
    if (a->reserved + want > a->cap) {
      // Try an exact-size chunk before giving up: the cap is on what we hold.
      want = size;
      if (a->reserved + want > a->cap) {
        a->limitExceeded = 1;
        return NULL;
      }
    }
    Chunk *n = malloc(sizeof(Chunk) + want);
    if (n == NULL) return NULL;
    n->size = want;
    n->used = 0;
    n->next = a->head;
    a->head = n;
    a->reserved += want;
    c = n;
  }
  void *p = c->data + c->used;
  c->used += size;
  a->handedOut += size;
  return p;
}

static void arena_free(void *ctx, void *pointer) {
  (void)ctx;
  (void)pointer; // released with the whole arena
}

CPprofShim_Decoded CPprofShim_decode(const uint8_t *data, size_t len, size_t maxArenaBytes) {
  CPprofShim_Decoded out = {0};
  CPprofShim_Arena *a = calloc(1, sizeof *a);
  if (a == NULL) return out;
  a->cap = maxArenaBytes;
  out.arena = a;
  ProtobufCAllocator allocator = {.alloc = arena_alloc, .free = arena_free, .allocator_data = a};
  out.profile = perftools__profiles__profile__unpack(&allocator, len, data);
  out.limitExceeded = a->limitExceeded;
  out.arenaBytes = a->handedOut;
  return out;
}

void CPprofShim_free(CPprofShim_Decoded *decoded) {
  if (decoded == NULL || decoded->arena == NULL) return;
  Chunk *c = decoded->arena->head;
  while (c != NULL) {
    Chunk *next = c->next;
    free(c);
    c = next;
  }
  free(decoded->arena);
  decoded->arena = NULL;
  decoded->profile = NULL;
}
