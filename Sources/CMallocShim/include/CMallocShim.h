#ifndef CMALLOCSHIM_H
#define CMALLOCSHIM_H
// The executable's allocator policy, set by a constructor before main (and
// before the Swift runtime starts any thread, which would pick its own malloc
// arena first): one glibc malloc arena. See MallocPolicy.swift in PluginHost.

/// The arena cap the constructor set (mallopt M_ARENA_MAX), 0 where unsupported.
int CMallocShim_arenaMax(void);

#endif
