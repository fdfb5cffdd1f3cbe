// relu_mask.h's kernels, compiled once per ISA: relu_mask_avx512.cpp, relu_mask_avx2.cpp and
// relu_mask_generic.cpp define CNN_RELU_MASK_NS and include this file with their own flags.
// No #pragma once: included once per ISA translation unit.
// The compare is ordered (NaN and -0 are not > 0) and the backward keeps dy's bits by masking
// them (an AND with all ones or all zeros; zeros give +0), so every level gives the naive loops'
// bits.
#include <immintrin.h>

#include "kernels/relu_mask.h"

namespace cnn::CNN_RELU_MASK_NS {
namespace {

// The 64 bits of y[0, 64).
inline uint64_t word_of(const float* y) {
  uint64_t m = 0;
#if defined(__AVX512F__)
  const __m512 zero = _mm512_setzero_ps();
  for (int k = 0; k < 4; ++k)
    m |= uint64_t(_mm512_cmp_ps_mask(_mm512_loadu_ps(y + 16 * k), zero, _CMP_GT_OQ)) << (16 * k);
#elif defined(__AVX__)
  const __m256 zero = _mm256_setzero_ps();
  for (int k = 0; k < 8; ++k)
    m |= uint64_t(unsigned(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(y + 8 * k), zero, _CMP_GT_OQ))))
         << (8 * k);
#else
  const __m128 zero = _mm_setzero_ps();
  for (int k = 0; k < 16; ++k)
    m |= uint64_t(unsigned(_mm_movemask_ps(_mm_cmpgt_ps(_mm_loadu_ps(y + 4 * k), zero)))) << (4 * k);
#endif
  return m;
}

// dx[0, 64) = dy through the word's bits.
inline void apply_word(uint64_t m, const float* dy, float* dx) {
#if defined(__AVX512F__)
  for (int k = 0; k < 4; ++k)
    _mm512_storeu_ps(dx + 16 * k, _mm512_maskz_mov_ps(__mmask16(m >> (16 * k)), _mm512_loadu_ps(dy + 16 * k)));
#elif defined(__AVX__)
  const __m256i lane = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  for (int k = 0; k < 8; ++k) {
    const __m256i b = _mm256_set1_epi32(int((m >> (8 * k)) & 0xFF));
    const __m256 sel = _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(b, lane), lane));
    _mm256_storeu_ps(dx + 8 * k, _mm256_and_ps(_mm256_loadu_ps(dy + 8 * k), sel));
  }
#else
  const __m128i lane = _mm_setr_epi32(1, 2, 4, 8);
  for (int k = 0; k < 16; ++k) {
    const __m128i b = _mm_set1_epi32(int((m >> (4 * k)) & 0xF));
    const __m128 sel = _mm_castsi128_ps(_mm_cmpeq_epi32(_mm_and_si128(b, lane), lane));
    _mm_storeu_ps(dx + 4 * k, _mm_and_ps(_mm_loadu_ps(dy + 4 * k), sel));
  }
#endif
}

}  // namespace

void relu_mask_bits(const float* y, int64_t n, uint64_t* bits) {
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) *bits++ = word_of(y + i);
  if (i == n) return;
  uint64_t m = 0;
  for (int64_t j = 0; i + j < n; ++j) m |= uint64_t(y[i + j] > 0.f) << j;
  *bits = m;
}

void relu_backward_bits(const uint64_t* bits, const float* dy, float* dx, int64_t n) {
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) apply_word(*bits++, dy + i, dx + i);
  for (int64_t j = 0; i + j < n; ++j) {
    const float d = dy[i + j];
    dx[i + j] = (*bits >> j) & 1 ? d : 0.f;
  }
}

}  // namespace cnn::CNN_RELU_MASK_NS
