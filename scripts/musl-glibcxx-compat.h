/* Included first (-include) when scripts/test-musl.sh compiles isoalloc's
 * C++ against musl's C headers. Debian's libstdc++ headers are configured
 * for glibc, and <atomic>'s C++20 wait support pulls in <bits/std_mutex.h>
 * and the locale headers, which name two glibc-only things. isoalloc uses
 * neither (only std::atomic's compiler builtins and placement new): these
 * give the headers the names they expect, nothing is called. */
#pragma once
#include <locale.h>
#include <pthread.h>
#include <time.h>

typedef locale_t __locale_t; /* glibc's name for locale_t (bits/c++locale.h) */

/* glibc >= 2.30 (bits/std_mutex.h's condition variable; never used here). */
static inline int pthread_cond_clockwait(pthread_cond_t* cond, pthread_mutex_t* mutex, clockid_t clock,
                                         const struct timespec* deadline) {
  (void)clock;
  return pthread_cond_timedwait(cond, mutex, deadline);
}
