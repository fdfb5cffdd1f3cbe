#pragma once
// The AVX512 vector traits the templated kernels (row_conv_simd.h, blocked_conv_simd.h) are written
// over. Include only from *_avx512.cpp files (compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl: CMakeLists.txt).
#include <immintrin.h>

#include <cstdint>

namespace cnn {
namespace {  // each including file compiles its own copy with its own flags

// Rows r[0..16) of a 16x16 block become its columns: pairs of floats, then of doubles, interleaved
// within 128-bit lanes, then the lanes gathered in two steps (4 x 16 shuffles).
inline void transpose16x16(__m512 (&r)[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]), t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  const auto lo = [](__m512 a, __m512 b) {
    return _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)));
  };
  const auto hi = [](__m512 a, __m512 b) {
    return _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)));
  };
  // u[4g + j]: in 128-bit lane q, column 4q + j of rows 4g .. 4g + 3
  __m512 u[16];
  for (int i = 0; i < 16; i += 4) {
    u[i] = lo(t[i], t[i + 2]), u[i + 1] = hi(t[i], t[i + 2]);
    u[i + 2] = lo(t[i + 1], t[i + 3]), u[i + 3] = hi(t[i + 1], t[i + 3]);
  }
  constexpr int kEven = _MM_SHUFFLE(2, 0, 2, 0), kOdd = _MM_SHUFFLE(3, 1, 3, 1);
  for (int j = 0; j < 4; ++j) {
    const __m512 a0 = _mm512_shuffle_f32x4(u[j], u[4 + j], kEven), a1 = _mm512_shuffle_f32x4(u[j], u[4 + j], kOdd);
    const __m512 b0 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], kEven);
    const __m512 b1 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], kOdd);
    r[j] = _mm512_shuffle_f32x4(a0, b0, kEven), r[8 + j] = _mm512_shuffle_f32x4(a0, b0, kOdd);
    r[4 + j] = _mm512_shuffle_f32x4(a1, b1, kEven), r[12 + j] = _mm512_shuffle_f32x4(a1, b1, kOdd);
  }
}

struct V512 {
  static constexpr int kLanes = 16;
  using reg = __m512;
  static reg zero() { return _mm512_setzero_ps(); }
  static reg load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, reg r) { _mm512_storeu_ps(p, r); }
  static void stream(float* p, reg r) {  // V256::stream
    if (reinterpret_cast<uintptr_t>(p) % sizeof(reg) == 0) _mm512_stream_ps(p, r);
    else store(p, r);
  }
  static reg bcast(const float* p) { return _mm512_set1_ps(*p); }
  static reg fma(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
  static reg sub(reg a, reg b) { return _mm512_sub_ps(a, b); }
  static reg mul(reg a, reg b) { return _mm512_mul_ps(a, b); }
  // r as it is: GCC contracts a product and a sum of intrinsics into an FMA, whose one rounding
  // differs from the scalar code's two; a product passed through here is rounded on its own.
  static reg rounded(reg r) {
    asm("" : "+v"(r));
    return r;
  }
  // v where a > 0 (ordered: not where a is NaN), else 0
  static reg where_positive(reg a, reg v) { return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(a, zero(), _CMP_GT_OQ), v); }
  static reg set1(float x) { return _mm512_set1_ps(x); }
  static reg min(reg a, reg b) { return _mm512_min_ps(a, b); }
  static reg max(reg a, reg b) { return _mm512_max_ps(a, b); }
  // v where v > acc or v is NaN, else acc (V256::max_nan)
  static reg max_nan(reg acc, reg v) {
    return _mm512_mask_mov_ps(acc, _mm512_cmp_ps_mask(v, acc, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), v);
  }
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
  // r's 16 lanes added to 8 double lanes (blocked_conv.h's kBlockedSumLanes): lanes 0-7, then 8-15
  static void add_sums8(reg r, double* sum, double* sq) {
    const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(r));
    const __m512d hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(r), 1)));
    _mm512_storeu_pd(sum, _mm512_add_pd(_mm512_add_pd(_mm512_loadu_pd(sum), lo), hi));
    _mm512_storeu_pd(sq, _mm512_fmadd_pd(hi, hi, _mm512_fmadd_pd(lo, lo, _mm512_loadu_pd(sq))));
  }
  static void transpose(reg (&r)[kLanes]) { transpose16x16(r); }
  // p[l * stride] in the first `valid` lanes (clamped to [0, 16]), zeros in the others
  static reg gather(const float* p, int64_t stride, int valid) {
    const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                           _mm512_set1_epi32(static_cast<int>(stride)));
    const mask k = valid >= kLanes ? mask(0xFFFF) : valid <= 0 ? mask(0) : make_mask((1u << valid) - 1);
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), k, idx, p, 4);
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
