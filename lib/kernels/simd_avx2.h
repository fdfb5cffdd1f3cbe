#pragma once
// The AVX2 vector traits the templated kernels (row_conv_simd.h, blocked_conv_simd.h) are written
// over. Include only from *_avx2.cpp files (compiled with -mavx2 -mfma: CMakeLists.txt).
#include <immintrin.h>

#include <cstdint>

namespace cnn {
namespace {  // each including file compiles its own copy with its own flags

// Rows r[0..8) of an 8x8 block become its columns.
inline void transpose8x8(__m256 (&r)[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 8; i += 2) t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]), t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
}

struct V256 {
  static constexpr int kLanes = 8;
  using reg = __m256;
  static reg zero() { return _mm256_setzero_ps(); }
  static reg load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, reg r) { _mm256_storeu_ps(p, r); }
  // past the caches where p is aligned (callers fence before another thread reads)
  static void stream(float* p, reg r) {
    if (reinterpret_cast<uintptr_t>(p) % sizeof(reg) == 0) _mm256_stream_ps(p, r);
    else store(p, r);
  }
  static reg bcast(const float* p) { return _mm256_broadcast_ss(p); }
  static reg fma(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
  static reg add(reg a, reg b) { return _mm256_add_ps(a, b); }
  static reg sub(reg a, reg b) { return _mm256_sub_ps(a, b); }
  static reg mul(reg a, reg b) { return _mm256_mul_ps(a, b); }
  // r as it is: a product passed through here is not contracted into an FMA (V512::rounded)
  static reg rounded(reg r) {
    asm("" : "+v"(r));
    return r;
  }
  // v where a > 0 (ordered: not where a is NaN), else 0
  static reg where_positive(reg a, reg v) { return _mm256_and_ps(v, _mm256_cmp_ps(a, zero(), _CMP_GT_OQ)); }
  static reg set1(float x) { return _mm256_set1_ps(x); }
  static reg min(reg a, reg b) { return _mm256_min_ps(a, b); }
  static reg max(reg a, reg b) { return _mm256_max_ps(a, b); }
  // v where v > acc or v is NaN, else acc: max pooling's running maximum (PyTorch's: the first
  // of equal values, a NaN wins and stays)
  static reg max_nan(reg acc, reg v) {
    const reg take = _mm256_or_ps(_mm256_cmp_ps(v, acc, _CMP_GT_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    return _mm256_blendv_ps(acc, v, take);
  }
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
  // r's lanes added to 8 double lanes (blocked_conv.h's kBlockedSumLanes): the same as add_sums here
  static void add_sums8(reg r, double* sum, double* sq) { add_sums(r, sum, sq); }
  static void transpose(reg (&r)[kLanes]) { transpose8x8(r); }
  // p[l * stride] in the first `valid` lanes (clamped to [0, 8]), zeros in the others
  static reg gather(const float* p, int64_t stride, int valid) {
    const __m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(static_cast<int>(stride)));
    const mask k = make_mask(valid >= kLanes ? 0xFFu : valid <= 0 ? 0u : (1u << valid) - 1);
    return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), p, idx, _mm256_castsi256_ps(k), 4);
  }
  static float sum(reg r) {
    const __m128 h = _mm_add_ps(_mm256_castps256_ps128(r), _mm256_extractf128_ps(r, 1));
    const __m128 s = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)));
  }
};

}  // namespace
}  // namespace cnn
