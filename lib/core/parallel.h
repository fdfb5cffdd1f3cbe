#pragma once
// The one thread pool that owns the cores. OpenBLAS is pinned to one thread; the engine's
// layers split work (batch images, channels, GEMM row blocks) across this pool instead, so two
// pools never fight over two cores. set_num_threads() is what `--threads` sets.
#include <cstdint>
#include <functional>

namespace cnn {

void set_num_threads(int n);  // n <= 0: all hardware threads
int num_threads();

// Calls fn(begin, end, chunk_index) on contiguous chunks covering [0, n), one chunk per thread
// (fewer when n is small), each chunk once with its own index. A thread that has not started
// when the caller is done with its own chunk leaves its chunk to the caller, so fn must not
// wait for another chunk, and may share nothing between calls but by chunk index. Runs inline
// when n is 1 or the pool has one thread. Not reentrant: a nested call runs inline on the
// calling thread.
void parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn);

// The same split, balanced at the end: each thread runs its own chunk from the front in pieces,
// then takes pieces from the back of the chunks of threads still busy. For loops whose results do
// not depend on which thread runs an index (no per-thread partial sums): fn may see several
// ranges per thread.
void parallel_for_balanced(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn);

// For tests: held workers join no call, as if their CPUs had been taken away; calls still
// complete, on the calling thread.
void hold_pool_workers(bool held);

// Elementwise work over [0, n): fn(begin, end) on one chunk per thread when n is large enough
// to be worth waking the pool (2 * 32 Ki elements), inline otherwise.
template <class Fn>
void parallel_elementwise(int64_t n, Fn&& fn) {
  constexpr int64_t grain = int64_t(1) << 15;
  if (n < 2 * grain || num_threads() == 1) {
    fn(int64_t(0), n);
    return;
  }
  parallel_for(n, [&](int64_t b, int64_t e, int) { fn(b, e); });
}

// dst[i] = src[i] for i < n, with parallel_elementwise.
void parallel_copy(const float* src, float* dst, int64_t n);

// BLAS library name and kernel as loaded ("OpenBLAS 0.3.21", "Haswell").
const char* blas_core_name();
const char* blas_config();

}  // namespace cnn
