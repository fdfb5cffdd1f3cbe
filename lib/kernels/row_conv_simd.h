#pragma once
// The row-convolution micro-kernels, written once over a SIMD traits type V and compiled per ISA
// (row_conv_avx512.cpp, row_conv_avx2.cpp include this with their own compiler flags).
// V provides: kLanes, type reg, zero(), load(p), store(p, r), bcast(p), fma(a, b, acc), add(a, b), sum(r).
//
// forward: a register tile of kRowConvMB output channels x QV vectors of positions; per
// (channel, tap) QV unaligned loads of x, kRowConvMB broadcast weights, kRowConvMB * QV FMAs.
// Channels are taken in blocks whose weights (per output-channel block) stay in L1; later blocks
// add to the partial sums already in y.
// wgrad: a tile of JB (channel, tap) pairs x MV vectors of output channels (channel-blocked dy
// and dw, row_conv.h), summed over a chunk of positions.
#include <algorithm>
#include <cstring>

#include "kernels/row_conv.h"

namespace cnn::row_conv_simd {

// Input channels per block (later blocks reload the partial sums). Measured on one AVX-512
// thread, forward alone, interleaved A/B: up to 512 channels in one block (weights of one
// output-channel block up to 110 KB, read from L2) beat blocks whose weights stay in L1 (16 KB)
// by 5-15% on 3x3 convolutions of 128-512 channels; a single block of 2048 channels (1x1) lost
// 30%, its position chunk's input rows no longer fitting in L2.
inline int channel_block(int C) { return std::min(C, 512); }

// Positions per chunk: the chunk's input rows (C of them) stay in L2 while every output-channel
// block sweeps them.
inline int64_t chunk_positions(int C) {
  const int64_t target = std::clamp<int64_t>((int64_t(1) << 16) / std::max(C, 1), 256, 4096);
  return target / kRowConvQAlign * kRowConvQAlign;
}

// wb: the packed weights of channel c0 in this output-channel block. add: y holds partial sums.
// Outputs for positions [q, q + QV * lanes) go to yrow[i] + yq. MB <= kRowConvMB rows of the
// block are computed: the last block of M = 16, 32, 64 ... holds 4 or 2 channels, and computing
// only those saves the 11% of forward FMAs that 6-row tiles wasted at 16 and 32 channels.
template <class V, int QV, int MB>
inline void forward_tile(const RowConvArgs& a, const float* wb, int c0, int c1, bool add, int mvalid, int64_t q,
                         float* const* yrow, int64_t yq) {
  constexpr int L = V::kLanes;
  static_assert(MB <= kRowConvMB, "a tile holds at most one packed block");
  typename V::reg acc[MB][QV];
#pragma GCC unroll 8
  for (int i = 0; i < MB; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < QV; ++j) acc[i][j] = add ? V::load(yrow[i] + yq + j * L) : V::zero();
  const float* wp = wb;
  for (int c = c0; c < c1; ++c) {
    const float* xc = a.x + c * a.x_stride + q;
    for (int t = 0; t < a.T; ++t, wp += kRowConvMB) {
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
      for (int j = 0; j < QV; ++j) V::store(yrow[i] + yq + j * L, acc[i][j]);
}

// One kRowConvQAlign tile written straight to a.out through a.outputs: computed into a buffer in
// L1, then each run of outputs copied out (with the bias after the last channel block).
template <class V, int QV, int MB>
void forward_tile_to_outputs(const RowConvArgs& a, const float* wb, int c0, int c1, int m0, int mvalid, int64_t t0) {
  constexpr int A = kRowConvQAlign, tile = V::kLanes * QV;
  alignas(64) float buf[kRowConvMB][A];
  float* rows[kRowConvMB];
  for (int i = 0; i < kRowConvMB; ++i) rows[i] = buf[i];
  const OutputMap& o = *a.outputs;
  const bool add = c0 > 0, last = c1 == a.C;
  if (add) {  // partial sums of the earlier channel blocks; padding positions start at 0 (no denormals)
    std::memset(buf, 0, sizeof buf);
    for_each_output_run(o, t0, A, [&](int begin, int len, int64_t dst) {
      for (int i = 0; i < mvalid; ++i)
        std::memcpy(buf[i] + begin, a.out + dst + (m0 + i) * o.channel_stride, sizeof(float) * size_t(len));
    });
  }
  for (int j = 0; j < A; j += tile) forward_tile<V, QV, MB>(a, wb, c0, c1, add, mvalid, t0 + j, rows, j);
  for_each_output_run(o, t0, A, [&](int begin, int len, int64_t dst) {
    for (int i = 0; i < mvalid; ++i) {
      const int64_t at = dst + (m0 + i) * o.channel_stride;
      const float* b = buf[i] + begin;
      if (!last) {
        std::memcpy(a.out + at, b, sizeof(float) * size_t(len));
        continue;
      }
      finish_channel_run(a, m0 + i, b, len, at);
    }
  });
}

template <class V, int QV>
void forward(const RowConvArgs& a, int64_t q0, int64_t q1) {
  constexpr int tile = V::kLanes * QV;
  static_assert(kRowConvQAlign % tile == 0, "a tile must divide the alignment");
  const int cb = channel_block(a.C);
  const int64_t chunk = chunk_positions(cb), wblock = int64_t(a.C) * a.T * kRowConvMB;
  for (int64_t p0 = q0; p0 < q1; p0 += chunk) {
    const int64_t p1 = std::min(q1, p0 + chunk);
    for (int c0 = 0; c0 < a.C; c0 += cb) {
      const int c1 = std::min(a.C, c0 + cb);
      for (int m0 = 0; m0 < a.M; m0 += kRowConvMB) {
        const int mvalid = std::min(kRowConvMB, a.M - m0);
        const float* wb = a.w + (m0 / kRowConvMB) * wblock + int64_t(c0) * a.T * kRowConvMB;
        auto block = [&]<int MB>() {
          if (a.outputs) {
            for (int64_t t0 = p0; t0 < p1; t0 += kRowConvQAlign)
              forward_tile_to_outputs<V, QV, MB>(a, wb, c0, c1, m0, mvalid, t0);
            return;
          }
          float* yrow[kRowConvMB];
          for (int i = 0; i < kRowConvMB; ++i) yrow[i] = a.y + (m0 + std::min(i, mvalid - 1)) * a.y_stride;
          for (int64_t q = p0; q < p1; q += tile) forward_tile<V, QV, MB>(a, wb, c0, c1, c0 > 0, mvalid, q, yrow, q);
        };
        if (mvalid > 4) block.template operator()<kRowConvMB>();
        else if (mvalid > 2) block.template operator()<4>();
        else block.template operator()<2>();
      }
    }
  }
}

// wgrad tile: MV vectors of output channels (MV * lanes channels) x JB (channel, tap) pairs,
// summed over positions [q0, q1) in registers; per position MV loads of dy and JB broadcasts of x.
// The tile's sums are added to dwb once per call (a chunk of positions).
template <class V, int MV, int JB>
inline void wgrad_tile(const RowConvArgs& a, int b0, int bvalid, int j0, int jvalid, int64_t q0, int64_t q1,
                       float* dwb) {
  constexpr int L = V::kLanes;
  const int64_t CT = int64_t(a.C) * a.T;
  const float* dy[MV];
  const float* xr[JB];
  for (int v = 0; v < MV; ++v) dy[v] = a.dyb + (b0 + std::min(v, bvalid - 1)) * a.dyb_positions * L;
  for (int k = 0; k < JB; ++k) {
    const int j = j0 + std::min(k, jvalid - 1);
    xr[k] = a.x + (j / a.T) * a.x_stride + a.off[j % a.T];
  }
  typename V::reg acc[JB][MV];
#pragma GCC unroll 32
  for (int k = 0; k < JB; ++k)
#pragma GCC unroll 4
    for (int v = 0; v < MV; ++v) acc[k][v] = V::zero();
  for (int64_t q = q0; q < q1; ++q) {
    typename V::reg d[MV];
#pragma GCC unroll 4
    for (int v = 0; v < MV; ++v) d[v] = V::load(dy[v] + q * L);
#pragma GCC unroll 32
    for (int k = 0; k < JB; ++k) {
      const typename V::reg xb = V::bcast(xr[k] + q);
#pragma GCC unroll 4
      for (int v = 0; v < MV; ++v) acc[k][v] = V::fma(xb, d[v], acc[k][v]);
    }
  }
#pragma GCC unroll 32
  for (int k = 0; k < JB; ++k)
#pragma GCC unroll 4
    for (int v = 0; v < MV; ++v)
      if (k < jvalid && v < bvalid) {
        float* p = dwb + ((b0 + v) * CT + j0 + k) * L;
        V::store(p, V::add(V::load(p), acc[k][v]));
      }
}

// Positions per wgrad chunk: the chunk's dy (MV vectors per position) stays in L1 while every
// (channel, tap) group of the tile sweeps it.
template <class V, int MV>
constexpr int64_t wgrad_chunk() { return 4096 / (MV * V::kLanes); }

template <class V, int MV, int JB>
void wgrad_blocks(const RowConvArgs& a, int64_t q0, int64_t q1, float* dwb) {
  const int blocks = (a.M + V::kLanes - 1) / V::kLanes, CT = a.C * a.T;
  for (int64_t c0 = q0; c0 < q1; c0 += wgrad_chunk<V, MV>()) {
    const int64_t c1 = std::min(q1, c0 + wgrad_chunk<V, MV>());
    for (int b0 = 0; b0 < blocks; b0 += MV)
      for (int j0 = 0; j0 < CT; j0 += JB)
        wgrad_tile<V, MV, JB>(a, b0, std::min(MV, blocks - b0), j0, std::min(JB, CT - j0), c0, c1, dwb);
  }
}

template <class V, int JB>
void wgrad(const RowConvArgs& a, int64_t q0, int64_t q1, float* dwb) {
  wgrad_blocks<V, 2, JB>(a, q0, q1, dwb);
}

// wgrad_rows: a tile of MW output channels x JB (channel, tap) pairs, vectors over positions,
// summed over a chunk of positions and reduced to scalars once per chunk.
template <class V, int MW, int JB>
inline void wgrad_rows_tile(const RowConvArgs& a, int m0, int mvalid, int j0, int jvalid, int64_t q0, int64_t q1,
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
void wgrad_rows(const RowConvArgs& a, int64_t q0, int64_t q1, float* dw) {
  const int64_t chunk = chunk_positions(a.C);
  const int CT = a.C * a.T;
  for (int64_t c0 = q0; c0 < q1; c0 += chunk) {
    const int64_t c1 = std::min(q1, c0 + chunk);
    for (int m0 = 0; m0 < a.M; m0 += MW)
      for (int j0 = 0; j0 < CT; j0 += JB)
        wgrad_rows_tile<V, MW, JB>(a, m0, std::min(MW, a.M - m0), j0, std::min(JB, CT - j0), c0, c1, dw);
  }
}

}  // namespace cnn::row_conv_simd
