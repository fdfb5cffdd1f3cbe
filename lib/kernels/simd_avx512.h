#pragma once
// The AVX512 vector traits the templated kernels (row_conv_simd.h, blocked_conv_simd.h) are written
// over. Include only from *_avx512.cpp files (compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl: CMakeLists.txt).
#include <immintrin.h>

#include <cstdint>

namespace cnn {
namespace {  // each including file compiles its own copy with its own flags

struct V512 {
  static constexpr int kLanes = 16;
  using reg = __m512;
  static reg zero() { return _mm512_setzero_ps(); }
  static reg load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, reg r) { _mm512_storeu_ps(p, r); }
  static reg bcast(const float* p) { return _mm512_set1_ps(*p); }
  static reg fma(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
  static reg set1(float x) { return _mm512_set1_ps(x); }
  static reg min(reg a, reg b) { return _mm512_min_ps(a, b); }
  static reg max(reg a, reg b) { return _mm512_max_ps(a, b); }
  using mask = __mmask16;
  static mask make_mask(uint32_t bits) { return static_cast<mask>(bits); }
  static reg mask_load(reg src, mask k, const float* p) { return _mm512_mask_loadu_ps(src, k, p); }
  static reg maskz_load(mask k, const float* p) { return _mm512_maskz_loadu_ps(k, p); }
  static void mask_store(float* p, mask k, reg r) { _mm512_mask_storeu_ps(p, k, r); }
  static reg maskz_mov(mask k, reg r) { return _mm512_maskz_mov_ps(k, r); }
  static reg load_n(const float* p, int n) { return _mm512_maskz_loadu_ps(static_cast<mask>((1u << n) - 1), p); }
  static void store_n(float* p, reg r, int n) { _mm512_mask_storeu_ps(p, static_cast<mask>((1u << n) - 1), r); }
  // a zero-masked load uses a load port only (a masked move would take an FMA port's slot)
  static reg keep(mask k, const float* p) { return _mm512_maskz_loadu_ps(k, p); }
  static void add_sums(reg r, double* sum, double* sq) {
    const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(r));
    const __m512d hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(r), 1)));
    _mm512_storeu_pd(sum, _mm512_add_pd(_mm512_loadu_pd(sum), lo));
    _mm512_storeu_pd(sum + 8, _mm512_add_pd(_mm512_loadu_pd(sum + 8), hi));
    _mm512_storeu_pd(sq, _mm512_fmadd_pd(lo, lo, _mm512_loadu_pd(sq)));
    _mm512_storeu_pd(sq + 8, _mm512_fmadd_pd(hi, hi, _mm512_loadu_pd(sq + 8)));
  }
  static float sum(reg r) {  // in zmm registers: GCC 12 warns inside the 512->256 casts (-Wmaybe-uninitialized)
    r = _mm512_add_ps(r, _mm512_shuffle_f32x4(r, r, _MM_SHUFFLE(1, 0, 3, 2)));
    r = _mm512_add_ps(r, _mm512_shuffle_f32x4(r, r, _MM_SHUFFLE(2, 3, 0, 1)));
    r = _mm512_add_ps(r, _mm512_permute_ps(r, _MM_SHUFFLE(1, 0, 3, 2)));
    r = _mm512_add_ps(r, _mm512_permute_ps(r, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm512_cvtss_f32(r);
  }
};

}  // namespace
}  // namespace cnn
