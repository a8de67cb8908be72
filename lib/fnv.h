/* fnv.h — the FNV-1a hash of a string, for the buckets of in-memory hash tables. */
#ifndef SKIFF_FNV_H
#define SKIFF_FNV_H

#include <stdint.h>

/* 32-bit FNV-1a of the NUL-terminated s; not for anything an attacker must not collide. */
uint32_t fnv1a(const char *s);

#endif
