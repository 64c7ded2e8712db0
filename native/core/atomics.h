/*
 * atomics.h — C11 atomics for headers that the C++ addon also includes.
 * In C this is <stdatomic.h>; in C++ the same names map to std::atomic, which
 * GCC and Clang lay out identically to _Atomic (libstdc++'s own C++23
 * <stdatomic.h> does the same mapping).
 */
#ifndef HYPERION_ATOMICS_H
#define HYPERION_ATOMICS_H

#ifdef __cplusplus
extern "C++" { /* callers often include C headers inside extern "C" */
#include <atomic>
#include <cstddef>
#include <cstdint>
}
typedef std::atomic<int> atomic_int;
typedef std::atomic<unsigned> atomic_uint;
typedef std::atomic<bool> atomic_bool;
typedef std::atomic<size_t> atomic_size_t;
typedef std::atomic<int_fast64_t> atomic_int_fast64_t;
typedef std::atomic<uint_fast64_t> atomic_uint_fast64_t;
typedef std::atomic<uint64_t> atomic_uint64_t;
#define _Atomic(T) std::atomic<T>
#else
#include <stdatomic.h>
#endif

#endif
