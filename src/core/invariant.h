/* Always-on assertions for invariants whose failure means state could be corrupted.
 *
 * A crash is better than a wrong balance (redis, TigerBeetle): ASSERT stays on in release
 * builds. DEBUG_ASSERT is for checks too expensive for the hot path. */
#ifndef HB_CORE_INVARIANT_H
#define HB_CORE_INVARIANT_H

#include <assert.h>

void invariant__fail(const char *expr, const char *file, int line) __attribute__((noreturn));

#define ASSERT(expr) ((expr) ? (void)0 : invariant__fail(#expr, __FILE__, __LINE__))

#ifdef NDEBUG
#define DEBUG_ASSERT(expr) ((void)0)
#else
#define DEBUG_ASSERT(expr) ASSERT(expr)
#endif

#define WARN_UNUSED __attribute__((warn_unused_result))

#endif
