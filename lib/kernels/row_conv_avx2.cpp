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
  static reg set1(float x) { return _mm256_set1_ps(x); }
  static reg min(reg a, reg b) { return _mm256_min_ps(a, b); }
  static reg max(reg a, reg b) { return _mm256_max_ps(a, b); }
  using mask = __m256i;  // all ones in the lanes selected
  static mask make_mask(uint32_t bits) {
    const __m256i lane_bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(int(bits)), lane_bit), lane_bit);
  }
  static reg mask_load(reg src, mask k, const float* p) {
    return _mm256_blendv_ps(src, _mm256_maskload_ps(p, k), _mm256_castsi256_ps(k));
  }
  static reg maskz_load(mask k, const float* p) { return _mm256_maskload_ps(p, k); }
  static void mask_store(float* p, mask k, reg r) { _mm256_maskstore_ps(p, k, r); }
  static reg maskz_mov(mask k, reg r) { return _mm256_and_ps(r, _mm256_castsi256_ps(k)); }
  // The first n < 8 lanes: a masked load, and a store in halves (AMD microcodes vmaskmovps stores).
  static reg load_n(const float* p, int n) { return maskz_load(make_mask((1u << n) - 1), p); }
  static void store_n(float* p, reg r, int n) {
    __m128 h = _mm256_castps256_ps128(r);
    if (n >= 4) _mm_storeu_ps(p, h), h = _mm256_extractf128_ps(r, 1), p += 4, n -= 4;
    if (n >= 2) _mm_storel_pi(reinterpret_cast<__m64*>(p), h), h = _mm_movehl_ps(h, h), p += 2, n -= 2;
    if (n >= 1) _mm_store_ss(p, h);
  }
  // vandps runs on any of Zen 3's four FP pipes, beside the two FMA pipes
  static reg keep(mask k, const float* p) { return _mm256_and_ps(load(p), _mm256_castsi256_ps(k)); }
  static void add_sums(reg r, double* sum, double* sq) {  // lanes 0-7 of the 16
    const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(r)), hi = _mm256_cvtps_pd(_mm256_extractf128_ps(r, 1));
    _mm256_storeu_pd(sum, _mm256_add_pd(_mm256_loadu_pd(sum), lo));
    _mm256_storeu_pd(sum + 4, _mm256_add_pd(_mm256_loadu_pd(sum + 4), hi));
    _mm256_storeu_pd(sq, _mm256_fmadd_pd(lo, lo, _mm256_loadu_pd(sq)));
    _mm256_storeu_pd(sq + 4, _mm256_fmadd_pd(hi, hi, _mm256_loadu_pd(sq + 4)));
  }
  static float sum(reg r) {
    const __m128 h = _mm_add_ps(_mm256_castps256_ps128(r), _mm256_extractf128_ps(r, 1));
    const __m128 s = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)));
  }
};

}  // namespace

const RowConvKernel kRowConvAvx2{"avx2", Isa::avx2, V256::kLanes, row_conv_simd::forward<V256, 2, 0>,
                                 row_conv_simd::wgrad<V256, 6>, row_conv_simd::wgrad_rows<V256, 2, 6>};

}  // namespace cnn
