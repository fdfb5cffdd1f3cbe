// The AVX2 part of the 2x2 stride-2 max pool (compiled with the AVX2 flags: see CMakeLists.txt).
#include <immintrin.h>

#include "kernels/pool.h"

namespace cnn {

int maxpool2x2_row_avx2(const float* r0, const float* r1, int W, int OW, int32_t base, float* yo, int32_t* ao,
                        int& nan_count) {
  int ow = 0;
  // 8 outputs at a time: de-interleave even and odd columns of both rows.
  __m256 nan_mask = _mm256_setzero_ps();
  const __m256i lane = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
  for (; ow + 8 <= OW; ow += 8) {
    auto evens_odds = [](const float* p, __m256& ev, __m256& od) {
      const __m256 lo = _mm256_loadu_ps(p), hi = _mm256_loadu_ps(p + 8);
      ev = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0x88)), 0xD8));
      od = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0xDD)), 0xD8));
    };
    __m256 a, b, c, d;
    evens_odds(r0 + 2 * ow, a, b);
    evens_odds(r1 + 2 * ow, c, d);
    nan_mask = _mm256_or_ps(nan_mask, _mm256_or_ps(_mm256_cmp_ps(a, b, _CMP_UNORD_Q), _mm256_cmp_ps(c, d, _CMP_UNORD_Q)));
    const __m256 right0 = _mm256_cmp_ps(b, a, _CMP_GT_OQ), right1 = _mm256_cmp_ps(d, c, _CMP_GT_OQ);
    const __m256 top = _mm256_blendv_ps(a, b, right0), bottom = _mm256_blendv_ps(c, d, right1);
    const __m256i col = _mm256_add_epi32(_mm256_set1_epi32(base + 2 * ow), lane);
    const __m256i one = _mm256_set1_epi32(1);
    const __m256i itop = _mm256_add_epi32(col, _mm256_and_si256(_mm256_castps_si256(right0), one));
    const __m256i ibottom = _mm256_add_epi32(_mm256_add_epi32(col, _mm256_set1_epi32(W)),
                                             _mm256_and_si256(_mm256_castps_si256(right1), one));
    const __m256 down = _mm256_cmp_ps(bottom, top, _CMP_GT_OQ);
    _mm256_storeu_ps(yo + ow, _mm256_blendv_ps(top, bottom, down));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(ao + ow),
                        _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(itop), _mm256_castsi256_ps(ibottom), down)));
  }
  nan_count += _mm256_movemask_ps(nan_mask) != 0;
  return ow;
}

}  // namespace cnn
