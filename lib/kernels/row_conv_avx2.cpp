// AVX2 + FMA row-convolution kernels (compiled with -mavx2 -mfma: see CMakeLists.txt). 16 registers:
// forward tile 6 output channels x 2 vectors (16 positions) = 12 accumulators + 2 inputs + 1
// broadcast; wgrad tile 6 (channel, tap) pairs x 2 vectors of output channels; wgrad_rows tile 2 output channels x 6 pairs.
#include <immintrin.h>

#include "kernels/row_conv_simd.h"

namespace cnn {
namespace {

struct V256 {
  static constexpr int kLanes = 8;
  using reg = __m256;
  static reg zero() { return _mm256_setzero_ps(); }
  static reg load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, reg r) { _mm256_storeu_ps(p, r); }
  static reg bcast(const float* p) { return _mm256_broadcast_ss(p); }
  static reg fma(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
  static reg add(reg a, reg b) { return _mm256_add_ps(a, b); }
  static float sum(reg r) {
    const __m128 h = _mm_add_ps(_mm256_castps256_ps128(r), _mm256_extractf128_ps(r, 1));
    const __m128 s = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)));
  }
};

}  // namespace

const RowConvKernel kRowConvAvx2{"avx2", Isa::avx2, V256::kLanes, row_conv_simd::forward<V256, 2>,
                                 row_conv_simd::wgrad<V256, 6>, row_conv_simd::wgrad_rows<V256, 2, 6>};

}  // namespace cnn
