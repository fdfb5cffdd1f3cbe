// avx2 FMA chains for fma_peak.cpp (compiled with the avx2 flags: see CMakeLists.txt).
#include <immintrin.h>

#include "kernels/fma_peak.h"

namespace cnn {

float fma_loop_avx2(long iters) {
  constexpr int kChains = 12;
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(float(i));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long k = 0; k < iters; ++k) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  __m256 s = acc[0];
  for (int i = 1; i < kChains; ++i) s = _mm256_add_ps(s, acc[i]);
  alignas(64) float out[sizeof(__m256) / sizeof(float)];
  _mm256_store_ps(out, s);
  return out[0];
}

}  // namespace cnn
