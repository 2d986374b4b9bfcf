// common/assert.h — invariant checks.
// VSW_ASSERT: debug builds only, for internal invariants on the fast path.
// VSW_CHECK: always on and fatal, for invariants whose violation would corrupt state.
// Never use either on data that comes from a peer: validate and count instead.
#pragma once

#include <cstdio>
#include <cstdlib>

#ifdef NDEBUG
#define VSW_ASSERT(cond) ((void)0)
#else
#define VSW_ASSERT(cond)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)
#endif

#define VSW_CHECK(cond, msg)                                                                   \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "%s:%d: check failed: %s: %s\n", __FILE__, __LINE__, #cond, msg); \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)
