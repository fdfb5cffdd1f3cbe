#pragma once
// The blocked-convolution micro-kernel (blocked_conv.h), written once over a SIMD traits type V
// (simd_avx2.h, simd_avx512.h) and compiled per ISA: a register tile of P output pixels x B
// output blocks; per (input channel, tap), B weight vectors and P broadcast inputs.
#include <cstdint>
#include <utility>

#include "kernels/blocked_conv.h"
#include "kernels/simd_avx2.h"  // transpose8x8: AVX-512 files have AVX2 too

namespace cnn::blocked_conv_simd {

template <class V, int P, int B>
[[gnu::always_inline]] inline void fma_tile(typename V::reg (&acc)[P][B], const float* const (&xp)[P], int64_t at,
                                            const float* w) {
  constexpr int L = V::kLanes;
  typename V::reg wv[B];
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) wv[b] = V::load(w + b * L);
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p) {
    const typename V::reg x = V::bcast(xp[p] + at);
#pragma GCC unroll 4
    for (int b = 0; b < B; ++b) acc[p][b] = V::fma(wv[b], x, acc[p][b]);
  }
}

// Never inlined, like the row kernels' tiles: the register allocation of the whole tile is
// GCC's to see at once (an always_inline step over an accumulator array: 94 GFLOP/s in the
// prototype; the same loops with the accumulators indexed in the tap loop spilled them, 34).
template <class V, int P, int B>
[[gnu::noinline]] void tile(const BlockedConvArgs& a, int64_t i) {
  constexpr int L = V::kLanes;
  typename V::reg acc[P][B];
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int b = 0; b < B; ++b) acc[p][b] = V::zero();
  const float* w = a.w;
  for (int cb = 0; cb < a.CB; ++cb) {
    const float* xc = a.x + cb * a.x_block;
    const float* xp[P];
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) xp[p] = xc + a.x_pix[i + p];
    for (int t = 0; t < a.T; ++t, w += L * B * L) {
      const int64_t at = a.tap[t];
#pragma GCC unroll 2
      for (int l = 0; l < L; l += 2) {
        fma_tile<V, P, B>(acc, xp, at + l, w + l * B * L);
        fma_tile<V, P, B>(acc, xp, at + l + 1, w + (l + 1) * B * L);
      }
    }
  }
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int b = 0; b < B; ++b) V::store(a.y + b * a.y_block + (i + p) * L, acc[p][b]);
}

// The tail of a pixel range: a tile of R < P pixels.
template <class V, int B, int... R>
void tail(const BlockedConvArgs& a, int64_t i, int rest, std::integer_sequence<int, R...>) {
  ((rest == R + 1 ? tile<V, R + 1, B>(a, i) : void()), ...);
}

template <class V, int P, int B>
void forward(const BlockedConvArgs& a, int64_t i0, int64_t i1) {
  int64_t i = i0;
  for (; i + P <= i1; i += P) tile<V, P, B>(a, i);
  if (i < i1) tail<V, B>(a, i, static_cast<int>(i1 - i), std::make_integer_sequence<int, P - 1>{});
}

// Both directions move 8 pixels x 8 channels at a time through an 8x8 transpose (lanes is 8 or
// 16: one or two blocks of 8 channels); missing channels read as zeros, the last W % 8 pixels go
// one at a time.
template <int L>
void pack_pixels(const float* const* rows, int count, int64_t W, float* dst) {
  static_assert(L % 8 == 0);
  int64_t w = 0;
  for (; w + 8 <= W; w += 8)
    for (int c0 = 0; c0 < L; c0 += 8) {
      __m256 r[8];
      for (int l = 0; l < 8; ++l) r[l] = c0 + l < count ? _mm256_loadu_ps(rows[c0 + l] + w) : _mm256_setzero_ps();
      transpose8x8(r);
      for (int j = 0; j < 8; ++j) _mm256_storeu_ps(dst + (w + j) * L + c0, r[j]);
    }
  for (; w < W; ++w)
    for (int l = 0; l < L; ++l) dst[w * L + l] = l < count ? rows[l][w] : 0.f;
}

template <int L>
void unpack_finish(const float* src, int64_t W, int count, const BlockedEpilogue& e, float* const* rows) {
  static_assert(L % 8 == 0);
  const __m256 lo = _mm256_set1_ps(e.lo), hi = _mm256_set1_ps(e.hi);
  int64_t w = 0;
  for (; w + 8 <= W; w += 8)
    for (int c0 = 0; c0 < count; c0 += 8) {
      __m256 r[8];
      for (int j = 0; j < 8; ++j) r[j] = _mm256_loadu_ps(src + (w + j) * L + c0);
      transpose8x8(r);
      for (int l = 0; l < 8 && c0 + l < count; ++l) {
        __m256 v = r[l];
        if (e.bias) v = _mm256_add_ps(v, _mm256_set1_ps(e.bias[c0 + l]));
        if (e.residual) v = _mm256_add_ps(v, _mm256_loadu_ps(e.residual[c0 + l] + w));
        // max first: a NaN becomes lo, as finish_output_run's comparisons make it
        if (e.clamp) v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
        _mm256_storeu_ps(rows[c0 + l] + w, v);
      }
    }
  for (; w < W; ++w)
    for (int l = 0; l < count; ++l) rows[l][w] = finish_blocked_value(src[w * L + l], l, w, e);
}

}  // namespace cnn::blocked_conv_simd
