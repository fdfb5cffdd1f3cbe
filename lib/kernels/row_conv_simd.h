#pragma once
// The row-convolution micro-kernels, written once over a SIMD traits type V and compiled per ISA
// (row_conv_avx512.cpp, row_conv_avx2.cpp include this with their own compiler flags).
// V provides: kLanes, type reg, zero(), load(p), store(p, r), bcast(p), fma(a, b, acc), sum(r).
//
// forward: a register tile of kRowConvMB output channels x QV vectors of positions; per
// (channel, tap) QV unaligned loads of x, kRowConvMB broadcast weights, kRowConvMB * QV FMAs.
// wgrad: a tile of MW output channels x JB (channel, tap) pairs, vectors over positions,
// summed over a chunk of positions and reduced to scalars once per chunk.
#include <algorithm>

#include "kernels/row_conv.h"

namespace cnn::row_conv_simd {

// Positions per chunk: the chunk's input rows (C of them) stay in L2 while every output-channel
// block sweeps them.
inline int64_t chunk_positions(int C) {
  const int64_t target = std::clamp<int64_t>((int64_t(1) << 16) / std::max(C, 1), 256, 4096);
  return target / kRowConvQAlign * kRowConvQAlign;
}

template <class V, int QV>
inline void forward_tile(const RowConvArgs& a, const float* wb, int mvalid, int64_t q, float* const* yrow) {
  constexpr int L = V::kLanes, MB = kRowConvMB;
  typename V::reg acc[MB][QV];
#pragma GCC unroll 8
  for (int i = 0; i < MB; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < QV; ++j) acc[i][j] = V::zero();
  const float* wp = wb;
  for (int c = 0; c < a.C; ++c) {
    const float* xc = a.x + c * a.x_stride + q;
    for (int t = 0; t < a.T; ++t, wp += MB) {
      const float* xp = xc + a.off[t];
      typename V::reg xv[QV];
#pragma GCC unroll 8
      for (int j = 0; j < QV; ++j) xv[j] = V::load(xp + j * L);
#pragma GCC unroll 8
      for (int i = 0; i < MB; ++i) {
        const typename V::reg b = V::bcast(wp + i);
#pragma GCC unroll 8
        for (int j = 0; j < QV; ++j) acc[i][j] = V::fma(b, xv[j], acc[i][j]);
      }
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MB; ++i)
    if (i < mvalid)
#pragma GCC unroll 8
      for (int j = 0; j < QV; ++j) V::store(yrow[i] + q + j * L, acc[i][j]);
}

template <class V, int QV>
void forward(const RowConvArgs& a, int64_t q0, int64_t q1) {
  constexpr int tile = V::kLanes * QV;
  static_assert(kRowConvQAlign % tile == 0, "a tile must divide the alignment");
  const int64_t chunk = chunk_positions(a.C), wblock = int64_t(a.C) * a.T * kRowConvMB;
  for (int64_t c0 = q0; c0 < q1; c0 += chunk) {
    const int64_t c1 = std::min(q1, c0 + chunk);
    for (int m0 = 0; m0 < a.M; m0 += kRowConvMB) {
      const int mvalid = std::min(kRowConvMB, a.M - m0);
      float* yrow[kRowConvMB];
      for (int i = 0; i < kRowConvMB; ++i) yrow[i] = a.y + (m0 + std::min(i, mvalid - 1)) * a.y_stride;
      const float* wb = a.w + (m0 / kRowConvMB) * wblock;
      for (int64_t q = c0; q < c1; q += tile) forward_tile<V, QV>(a, wb, mvalid, q, yrow);
    }
  }
}

template <class V, int MW, int JB>
inline void wgrad_tile(const RowConvArgs& a, int m0, int mvalid, int j0, int jvalid, int64_t q0, int64_t q1,
                       float* dw) {
  constexpr int L = V::kLanes;
  const int CT = a.C * a.T;
  const float* dyr[MW];
  const float* xr[JB];
  for (int i = 0; i < MW; ++i) dyr[i] = a.dy + (m0 + std::min(i, mvalid - 1)) * a.y_stride;
  for (int k = 0; k < JB; ++k) {
    const int j = j0 + std::min(k, jvalid - 1);
    xr[k] = a.x + (j / a.T) * a.x_stride + a.off[j % a.T];
  }
  typename V::reg acc[MW][JB];
#pragma GCC unroll 8
  for (int i = 0; i < MW; ++i)
#pragma GCC unroll 8
    for (int k = 0; k < JB; ++k) acc[i][k] = V::zero();
  for (int64_t q = q0; q < q1; q += L) {
    typename V::reg d[MW];
#pragma GCC unroll 8
    for (int i = 0; i < MW; ++i) d[i] = V::load(dyr[i] + q);
#pragma GCC unroll 8
    for (int k = 0; k < JB; ++k) {
      const typename V::reg xv = V::load(xr[k] + q);
#pragma GCC unroll 8
      for (int i = 0; i < MW; ++i) acc[i][k] = V::fma(d[i], xv, acc[i][k]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MW; ++i)
#pragma GCC unroll 8
    for (int k = 0; k < JB; ++k)
      if (i < mvalid && k < jvalid) dw[int64_t(m0 + i) * CT + j0 + k] += V::sum(acc[i][k]);
}

template <class V, int MW, int JB>
void wgrad(const RowConvArgs& a, int64_t q0, int64_t q1, float* dw) {
  const int64_t chunk = chunk_positions(a.C);
  const int CT = a.C * a.T;
  for (int64_t c0 = q0; c0 < q1; c0 += chunk) {
    const int64_t c1 = std::min(q1, c0 + chunk);
    for (int m0 = 0; m0 < a.M; m0 += MW)
      for (int j0 = 0; j0 < CT; j0 += JB)
        wgrad_tile<V, MW, JB>(a, m0, std::min(MW, a.M - m0), j0, std::min(JB, CT - j0), c0, c1, dw);
  }
}

}  // namespace cnn::row_conv_simd
