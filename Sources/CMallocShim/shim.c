#include "CMallocShim.h"
#include <stdlib.h> // defines __GLIBC__ on glibc
#if defined(__GLIBC__)
#include <malloc.h>
#endif

static int arenaMax = 0;

// Runs when the executable loads, before any thread exists: mallopt's arena
// cap only holds for arenas not yet created.
__attribute__((constructor)) static void CMallocShim_configure(void) {
#if defined(__GLIBC__)
  if (mallopt(M_ARENA_MAX, 1) == 1) arenaMax = 1;
#endif
}

int CMallocShim_arenaMax(void) { return arenaMax; }
