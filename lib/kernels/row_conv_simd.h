#pragma once
// The row-convolution micro-kernels, written once over a SIMD traits type V and compiled per ISA
// (row_conv_avx512.cpp, row_conv_avx2.cpp include this with their own compiler flags).
// V provides: kLanes, type reg, zero(), load(p), store(p, r), bcast(p), set1(x), fma(a, b, acc), add(a, b),
// min(a, b), max(a, b) (x86 semantics: the second operand when either is NaN), sum(r); masks of
// lanes: type mask, make_mask(bits), mask_load(src, k, p) (lanes outside k from src),
// maskz_load(k, p), mask_store(p, k, r), maskz_mov(k, r) (zero outside k), keep(k, p) (a load with
// the lanes outside k zeroed, the cheapest way on that ISA); load_n(p, n) and store_n(p, r, n):
// the first n < kLanes lanes (zeros in the others; memory past them untouched); add_sums(r, sum, sq):
// the lanes of r and their squares added in double to 16 lanes of sum and sq.
//
// forward: a register tile of kRowConvMB output channels x QV vectors of positions; per
// (channel, tap) QV unaligned loads of x, kRowConvMB broadcast weights, kRowConvMB * QV FMAs.
// Channels are taken in blocks whose weights (per output-channel block) stay in L1; later blocks
// add to the partial sums already in y.
// wgrad: a tile of JB (channel, tap) pairs x MV vectors of output channels (channel-blocked dy
// and dw, row_conv.h), summed over a chunk of positions.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/row_conv.h"

namespace cnn::row_conv_simd {

// Input channels per block (later blocks reload the partial sums). Measured on one AVX-512
// thread, forward alone, interleaved A/B: up to 512 channels in one block (weights of one
// output-channel block up to 110 KB, read from L2) beat blocks whose weights stay in L1 (16 KB)
// by 5-15% on 3x3 convolutions of 128-512 channels; a single block of 2048 channels (1x1) lost
// 30%, its position chunk's input rows no longer fitting in L2.
// AVX2 (session 11, Zen 3 with 512 KB of L2, 2 threads, forward alone, interleaved, best of 9):
// 3x3 with 512 input channels runs blocks of 256: 512->512 at 28x28 (VGG-16) 93-120 -> 114-147
// GFLOP/s in four runs, at 14x14 134 -> 146, at 7x7 even; 1x1 keeps 512 (2048->512 at 7x7: 125
// against 111 with 256) and smaller blocks lose for fewer channels (64 at 8x8: 117 -> 109 at 32).
template <class V>
int channel_block(int C, int taps) {
  constexpr int kMaxChannels = 512, kMaxChannelsMultiTapAvx2 = 256;
  return std::min(C, V::kLanes == 8 && taps > 1 ? kMaxChannelsMultiTapAvx2 : kMaxChannels);
}

// Positions per chunk: the chunk's input rows (C of them) stay in L2 while every output-channel
// block sweeps them.
inline int64_t chunk_positions(int C) {
  const int64_t target = std::clamp<int64_t>((int64_t(1) << 16) / std::max(C, 1), 256, 4096);
  return target / kRowConvQAlign * kRowConvQAlign;
}

// Rows of the widest forward tile: two packed blocks of output channels, used for 1x1
// convolutions (see forward).
constexpr int kForwardMaxRows = 2 * kRowConvMB;

// wb: the packed weights of channel c0 in this output-channel block. add: y holds partial sums.
// Outputs for positions [q, q + QV * lanes) go to yrow[i] + yq. MB <= kRowConvMB rows of the
// block are computed: the last block of M = 16, 32, 64 ... holds 4 or 2 channels, and computing
// only those saves the 11% of forward FMAs that 6-row tiles wasted at 16 and 32 channels.
// Tap loops: any T (kTapsAny), or 3x3 kernels with the nine taps unrolled at compile time.
// Measured (session 9, AVX2 Zen 3, one thread, direct conv forward and backward-data alone on
// ResNet-18/20/50 3x3 shapes, interleaved, best of 9): forward +0-12%, backward-data +2-31% (512
// channels at 7x7) against the runtime tap loop; ResNet-18-CIFAR training +7% (median of 3).
// kTaps1Panel: 1x1 convolutions read their input from a panel, the chunk's rows repacked once per
// channel block (pack_panel) so that a tile's C input vectors are one sequential stream instead of
// one cache line from each of C rows (C pages: the prefetchers and the TLB could not keep up).
// Measured (session 9, AVX2 Zen 3, one thread, interleaved, best of 7): 1x1 forward on ResNet-50's
// shapes 33-49 -> 53-71 GFLOP/s, backward-data +30-80%; whole nets, median of 3: MobileNet v1
// inference +31%, ResNet-50 inference +25%, training +24%.
enum TapShape { kTapsAny, kTaps9, kTaps9Narrow, kTaps1Panel };
inline TapShape tap_shape(const RowConvArgs& a) {
  if (a.T == 1 && a.skips.width == 0) return kTaps1Panel;
  if (a.T != 9) return kTapsAny;
  if (a.skips.width == 0) return kTaps9;
  return a.skips.left == 3 && a.skips.right == 6 ? kTaps9Narrow : kTapsAny;
}

// The panel of positions [p0, p1) and channels [c0, c1) (kTaps1Panel): vector v of positions of
// channel c at panel[(v * (c1 - c0) + c - c0) * L].
template <int L>
void pack_panel(const RowConvArgs& a, int c0, int c1, int64_t p0, int64_t p1, float* panel) {
  const int64_t cb = c1 - c0, vectors = (p1 - p0) / L;
  for (int c = c0; c < c1; ++c) {
    const float* src = a.x + c * a.x_stride + a.off[0] + p0;
    float* dst = panel + int64_t(c - c0) * L;
    for (int64_t v = 0; v < vectors; ++v) std::memcpy(dst + v * cb * L, src + v * L, sizeof(float) * L);
  }
}

// panel: with kTaps1Panel, the panel's first vector for position q.
// acc[i][j] += w[i] * xv[j] over the MB rows of one (channel, tap): wp points at the tap's packed
// weights (rows past kRowConvMB in the second block, wblock floats on).
template <class V, int QV, int MB>
[[gnu::always_inline]] inline void fma_rows(typename V::reg (&acc)[MB][QV], const typename V::reg (&xv)[QV],
                                            const float* wp, int64_t wblock) {
#pragma GCC unroll 16
  for (int i = 0; i < MB; ++i) {
    const typename V::reg b = V::bcast(wp + (i / kRowConvMB) * wblock + i % kRowConvMB);
#pragma GCC unroll 16
    for (int j = 0; j < QV; ++j) acc[i][j] = V::fma(b, xv[j], acc[i][j]);
  }
}

// ColumnSkips' lane masks for the QV vectors of positions from q: keep[0] without column 0,
// keep[1] without column width - 1 (every lane when there are no skips).
template <class V, int QV>
[[gnu::always_inline]] inline void column_keep_masks(const ColumnSkips& sk, int64_t q, typename V::mask (&keep)[2][QV]) {
  constexpr int L = V::kLanes;
#pragma GCC unroll 16
  for (int j = 0; j < QV; ++j) {
    const int64_t r = sk.width ? (q + j * L) % sk.width : 0;
    keep[0][j] = V::make_mask(sk.width ? lanes_outside_column(r, sk.width, 0, L) : ~0u);
    keep[1][j] = V::make_mask(sk.width ? lanes_outside_column(r, sk.width, sk.width - 1, L) : ~0u);
  }
}

// Never inlined: GCC's own choice changed with unrelated edits of its callers, and one of them
// (inlined into forward_tile_to_outputs with a loop it could not unroll) ran 3x3 tiles at half
// speed (kernel harness, AVX2: 40 against 82 GFLOP/s).
template <class V, int QV, int MB, TapShape TS = kTapsAny>
[[gnu::noinline]] void forward_tile(const RowConvArgs& a, const float* wb, int c0, int c1, bool add, int mvalid, int64_t q,
                         float* const* yrow, int64_t yq, const float* panel = nullptr) {
  constexpr int L = V::kLanes;
  static_assert(MB <= kForwardMaxRows, "a tile holds at most two packed blocks");
  static_assert(MB <= kRowConvMB || MB == kForwardMaxRows, "a two-block tile holds both blocks whole");
  const int64_t wblock = int64_t(a.C) * a.T * kRowConvMB;  // the second block's weights, for MB > kRowConvMB
  typename V::reg acc[MB][QV];
#pragma GCC unroll 16
  for (int i = 0; i < MB; ++i)
#pragma GCC unroll 16
    for (int j = 0; j < QV; ++j) acc[i][j] = add ? V::load(yrow[i] + yq + j * L) : V::zero();
  // ColumnSkips: the taps of [left, right) and [right, T) load their inputs with the lanes of
  // column 0 and column width - 1 zeroed.
  const ColumnSkips& sk = a.skips;
  const int left = sk.width ? sk.left : a.T, right = sk.width ? sk.right : a.T;
  typename V::mask keep[2][QV];
  column_keep_masks<V, QV>(sk, q, keep);
  const float* wp = wb;
  if constexpr (TS == kTaps1Panel) {
    const int64_t pj = int64_t(c1 - c0) * L;  // between a tile's vectors in the panel
    for (int c = c0; c < c1; ++c, wp += kRowConvMB) {
      const float* xp = panel + int64_t(c - c0) * L;
      typename V::reg xv[QV];
#pragma GCC unroll 16
      for (int j = 0; j < QV; ++j) xv[j] = V::load(xp + j * pj);
      fma_rows<V, QV, MB>(acc, xv, wp, wblock);
    }
  }
  for (int c = c0; c < c1 && TS != kTaps1Panel; ++c) {
    const float* xc = a.x + c * a.x_stride + q;
    // The first tap's input two tiles ahead: a tile reads C rows (more streams than the hardware
    // prefetcher follows). Kernel harness, 1 thread AVX-512, best of 7: 1x1 convolutions 8-20%
    // faster, 3x3 0-10%; prefetching the middle and last taps' rows too was slower.
#pragma GCC unroll 16
    for (int j = 0; j < QV; ++j) __builtin_prefetch(xc + a.off[0] + 2 * kRowConvQAlign + j * L);
    if constexpr (TS != kTapsAny) {
#pragma GCC unroll 9
      for (int t = 0; t < 9; ++t) {
        const float* xp = xc + a.off[t];
        typename V::reg xv[QV];
#pragma GCC unroll 16
        for (int j = 0; j < QV; ++j)
          xv[j] = TS == kTaps9Narrow && t >= 3 ? V::keep(keep[t / 6][j], xp + j * L) : V::load(xp + j * L);
        fma_rows<V, QV, MB>(acc, xv, wp + t * kRowConvMB, wblock);
      }
      wp += 9 * kRowConvMB;
      continue;
    }
    // K: 0 every lane, 1 and 2 keep[K - 1]'s lanes.
    auto taps = [&]<int K>(int t0, int t1) {
      for (int t = t0; t < t1; ++t, wp += kRowConvMB) {
        const float* xp = xc + a.off[t];
        typename V::reg xv[QV];
#pragma GCC unroll 16
        for (int j = 0; j < QV; ++j) xv[j] = K == 0 ? V::load(xp + j * L) : V::keep(keep[K - 1][j], xp + j * L);
        fma_rows<V, QV, MB>(acc, xv, wp, wblock);
      }
    };
    taps.template operator()<0>(0, left);
    taps.template operator()<1>(left, right);
    taps.template operator()<2>(right, a.T);
  }
#pragma GCC unroll 16
  for (int i = 0; i < MB; ++i)
    if (i < mvalid)
#pragma GCC unroll 16
      for (int j = 0; j < QV; ++j) V::store(yrow[i] + yq + j * L, acc[i][j]);
}

// A run of consecutive outputs of a tile: tile positions [begin, begin + len) go to out + dst
// (+ m * channel_stride).
struct OutputRun {
  int64_t dst;
  int begin, len;
};

// The runs of a chunk of tiles, listed once and used by every block of output channels: tile k's
// are run[first[k]] .. run[first[k + 1]). Per thread, grown to the largest chunk.
struct ChunkRuns {
  std::vector<OutputRun> run;
  std::vector<int> first;
  void list(const OutputMap& o, int64_t p0, int64_t p1) {
    const int64_t tiles = (p1 - p0) / kRowConvQAlign;
    run.clear();
    first.resize(size_t(tiles) + 1);
    first[0] = 0;
    for (int64_t k = 0; k < tiles; ++k) {
      for_each_output_run(o, p0 + k * kRowConvQAlign, kRowConvQAlign,
                          [&](int begin, int len, int64_t dst) { run.push_back({dst, begin, len}); });
      first[size_t(k) + 1] = static_cast<int>(run.size());
    }
  }
};

// BatchNorm's sums of one block of output channels over a chunk: per channel, 16 double lanes
// for the sum and 16 for the sum of squares, added to a.sums in lane order at the chunk's end.
struct BlockSums {
  double sum[kForwardMaxRows][16] = {}, sq[kForwardMaxRows][16] = {};
  void add_to(double* sums, int m0, int mvalid) const {
    for (int i = 0; i < mvalid; ++i) {
      double s = 0, q = 0;
      for (int l = 0; l < 16; ++l) s += sum[i][l], q += sq[i][l];
      sums[2 * (m0 + i)] += s;
      sums[2 * (m0 + i) + 1] += q;
    }
  }
};

// Calls fn(e, n) for the vectors of a run of len outputs: offsets e = 0, L, 2L ..., n = L except
// for a last vector of len - e < L outputs.
template <int L, class Fn>
inline void for_each_run_vector(int len, Fn&& fn) {
  int e = 0;
  for (; e + L <= len; e += L) fn(e, L);
  if (e < len) fn(e, len - e);
}

// One kRowConvQAlign tile written straight to a.out through a.outputs: computed into a buffer in
// L1, then finished (after the last channel block: bias, residual, clamp, sums) run by run, with
// unaligned whole-vector loads and stores and a partial last vector (V::load_n, V::store_n).
// Finishing vector pieces of the tile with masked loads and stores instead (session 8) cost 16%
// of ResNet-20's inference on AVX2 Zen 3, whose masked store is microcoded (and a masked load
// of a residual can wait on it); see docs/design.md for the measurement.
template <class V, int QV, int MB, TapShape TS>
void forward_tile_to_outputs(const RowConvArgs& a, const float* wb, int c0, int c1, int m0, int mvalid, int64_t t0,
                             const OutputRun* runs, int nruns, BlockSums* sums, const float* panel) {
  constexpr int A = kRowConvQAlign, L = V::kLanes, tile = L * QV;
  // + L: a run's last vector may read past the tile. Its lanes outside the run are never stored,
  // but they are added and clamped: they hold zeros or computed values, never stale stack bytes
  // (denormals would cost microcode assists).
  alignas(64) float buf[kForwardMaxRows][A + L];
  float* rows[kForwardMaxRows];
  for (int i = 0; i < kForwardMaxRows; ++i) rows[i] = buf[i];
  for (int i = 0; i < mvalid; ++i) V::store(buf[i] + A, V::zero());
  const int64_t cs = a.outputs->channel_stride;
  const bool add = c0 > 0 || a.accumulate, last = c1 == a.C;
  if (add) {  // partial sums of the earlier channel blocks (or the sums to add to); padding positions start at 0
    std::memset(buf, 0, sizeof buf);
    for (int r = 0; r < nruns; ++r) {
      const OutputRun& run = runs[r];
      for (int i = 0; i < mvalid; ++i) {
        float* b = buf[i] + run.begin;
        const float* src = a.out + run.dst + (m0 + i) * cs;
        // runs are in position order: a last vector's zero lanes land where a later run (or padding) goes
        for_each_run_vector<L>(run.len, [&](int e, int n) { V::store(b + e, n == L ? V::load(src + e) : V::load_n(src + e, n)); });
      }
    }
  }
  // Vectors holding no output (the positions past a batch's last pixel, which the rounding of
  // the positions to kRowConvQAlign adds: a 14x14 map at batch 1 computed 256 positions for 196)
  // are not computed.
  uint32_t used = 0;
  for (int r = 0; r < nruns; ++r)
    for (int v = runs[r].begin / L; v * L < runs[r].begin + runs[r].len; ++v) used |= 1u << v;
  for (int j = 0; j < A; j += tile)
    if ((used >> (j / L)) & ((1u << QV) - 1))
      forward_tile<V, QV, MB, TS>(a, wb, c0, c1, add, mvalid, t0 + j, rows, j, panel + j / L * (c1 - c0) * L);
    else
      for (int i = 0; i < mvalid; ++i)
        for (int v = 0; v < QV; ++v) V::store(buf[i] + j + v * L, V::zero());
  for (int r = 0; r < nruns; ++r) {
    const OutputRun& run = runs[r];
    for (int i = 0; i < mvalid; ++i) {
      const int m = m0 + i;
      const int64_t at = run.dst + m * cs;
      const float* b = buf[i] + run.begin;
      for_each_run_vector<L>(run.len, [&](int e, int n) {
        typename V::reg v = V::load(b + e);
        if (last) {
          if (a.bias) v = V::add(v, V::set1(a.bias[m]));
          if (a.residual) v = V::add(v, n == L ? V::load(a.residual + at + e) : V::load_n(a.residual + at + e, n));
          if (a.clamp) v = V::min(V::max(v, V::set1(a.lo)), V::set1(a.hi));
          if (sums) V::add_sums(n == L ? v : V::maskz_mov(V::make_mask((1u << n) - 1), v), sums->sum[i], sums->sq[i]);
        }
        if (n == L) V::store(a.out + at + e, v);
        else V::store_n(a.out + at + e, v, n);
      });
    }
  }
}

// 1x1 convolutions read each input vector from L2 (C rows, one step each), so their tiles take
// two blocks of output channels (12 rows) x QV2 vectors: half the input loads per FMA. Kernel
// harness, 1 thread AVX-512, best of 7, against 6 x 4 tiles: 5-12% faster on ResNet-50's and
// MobileNet's 1x1 shapes at 14x14 to 56x56, 8% slower at 1024 x 1024 on 7x7 maps. Convolutions
// with taps read their rows again from L1 and keep the 6-row tile. QV2 = 0: no wide tiles (AVX2:
// 12 rows of one vector need more broadcasts than FMAs can hide).
inline bool forward_wide_tiles(const RowConvArgs& a) { return a.T == 1; }

template <class V, int QV, int QV2>
void forward(const RowConvArgs& a, int64_t q0, int64_t q1) {
  static_assert(kRowConvQAlign % (V::kLanes * QV) == 0 && (QV2 == 0 || kRowConvQAlign % (V::kLanes * QV2) == 0),
                "a tile must divide the alignment");
  static_assert(V::kLanes <= 16, "run masks and sums hold 16 lanes");
  thread_local ChunkRuns chunk_runs;
  thread_local std::vector<float> panel;
  const TapShape shape = tap_shape(a);
  const int cb = channel_block<V>(a.C, a.T);
  const bool wide = QV2 > 0 && forward_wide_tiles(a);
  const int64_t chunk = chunk_positions(cb), wblock = int64_t(a.C) * a.T * kRowConvMB;
  // A block of one or two output channels (32 = 5 x 6 + 2) runs twice the vectors where they fit
  // the alignment (AVX2): 4 accumulators left the FMA pipes half idle. Measured (session 11, Zen
  // 3, 2 threads, forward alone, interleaved, best of 9): 32 -> 32 channels 3x3 at 16x16 and
  // 32x32 +2-4% (131.6 -> 135.1, 139.0 -> 141.9 GFLOP/s), 8 -> 8 channels +7%.
  constexpr int kTwoRowQV = kRowConvQAlign % (V::kLanes * 2 * QV) == 0 ? 2 * QV : QV;
  for (int64_t p0 = q0; p0 < q1; p0 += chunk) {
    const int64_t p1 = std::min(q1, p0 + chunk);
    if (a.outputs) chunk_runs.list(*a.outputs, p0, p1);
    for (int c0 = 0; c0 < a.C; c0 += cb) {
      const int c1 = std::min(a.C, c0 + cb);
      if (shape == kTaps1Panel) {
        panel.resize(std::max(panel.size(), size_t(c1 - c0) * size_t(p1 - p0)));
        pack_panel<V::kLanes>(a, c0, c1, p0, p1, panel.data());
      }
      // The panel's first vector for position q.
      auto panel_at = [&](int64_t q) { return panel.data() + (q - p0) / V::kLanes * (c1 - c0) * V::kLanes; };
      for (int m0 = 0; m0 < a.M;) {
        const int mvalid = std::min(wide ? kForwardMaxRows : kRowConvMB, a.M - m0);
        const float* wb = a.w + (m0 / kRowConvMB) * wblock + int64_t(c0) * a.T * kRowConvMB;
        auto block_taps = [&]<int MB, int QVB, TapShape TS>() {
          constexpr int tile = V::kLanes * QVB;
          if (a.outputs) {
            const bool with_sums = a.sums && c1 == a.C;
            BlockSums sums;
            const std::vector<int>& first = chunk_runs.first;
            for (int64_t t0 = p0, k = 0; t0 < p1; t0 += kRowConvQAlign, ++k)
              forward_tile_to_outputs<V, QVB, MB, TS>(a, wb, c0, c1, m0, std::min(MB, mvalid), t0,
                                                      chunk_runs.run.data() + first[k], first[k + 1] - first[k],
                                                      with_sums ? &sums : nullptr, panel_at(t0));
            if (with_sums) sums.add_to(a.sums, m0, std::min(MB, mvalid));
            return;
          }
          float* yrow[MB];
          for (int i = 0; i < MB; ++i) yrow[i] = a.y + (m0 + std::min(i, mvalid - 1)) * a.y_stride;
          for (int64_t q = p0; q < p1; q += tile)
            forward_tile<V, QVB, MB, TS>(a, wb, c0, c1, c0 > 0, std::min(MB, mvalid), q, yrow, q, panel_at(q));
        };
        auto block = [&]<int MB, int QVB>() {
          switch (shape) {
            case kTaps1Panel: return block_taps.template operator()<MB, QVB, kTaps1Panel>();
            case kTaps9: return block_taps.template operator()<MB, QVB, kTaps9>();
            case kTaps9Narrow: return block_taps.template operator()<MB, QVB, kTaps9Narrow>();
            default: return block_taps.template operator()<MB, QVB, kTapsAny>();
          }
        };
        if constexpr (QV2 > 0)
          if (mvalid == kForwardMaxRows) {
            block.template operator()<kForwardMaxRows, QV2>();
            m0 += kForwardMaxRows;
            continue;
          }
        if (mvalid > 4) block.template operator()<kRowConvMB, QV>(), m0 += kRowConvMB;
        else if (mvalid > 2) block.template operator()<4, QV>(), m0 += kRowConvMB;
        else block.template operator()<2, kTwoRowQV>(), m0 += kRowConvMB;
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

// Positions per wgrad chunk: the chunk's dy (MV vectors per position: 128 KB at AVX-512) stays in
// L2 while every (channel, tap) group of the tile sweeps it, and dwb is read and written once per
// chunk. Measured (session 8, one thread, the wgrad kernel alone on a thread's share of ResNet-18/50
// shapes, chunk sizes interleaved, best of 15): 1024 positions beat 128 (dy in L1, the size
// before) by 6-14% at AVX-512 and 256 by 3-10% at AVX2; 2048 no better, a whole 15,680-position
// share 17% worse.
constexpr int64_t kWgradChunk = 1024;

template <class V, int MV, int JB>
void wgrad_blocks(const RowConvArgs& a, int64_t q0, int64_t q1, float* dwb) {
  const int blocks = (a.M + V::kLanes - 1) / V::kLanes, CT = a.C * a.T;
  for (int64_t c0 = q0; c0 < q1; c0 += kWgradChunk) {
    const int64_t c1 = std::min(q1, c0 + kWgradChunk);
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
