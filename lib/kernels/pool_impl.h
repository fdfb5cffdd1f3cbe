// The vector pooling kernels, compiled once per ISA: pool_avx512.cpp, pool_avx2.cpp and
// pool_generic.cpp each define CNN_POOL_NS and include this file with their own compiler flags
// (the vector width follows them); pool.cpp dispatches on active_isa() and keeps the naive loops.
// No #pragma once: included once per ISA translation unit.
//
// Every kernel gives exactly the naive loops' bits:
// - Max pooling is separable: each input row's horizontal window maxima (first maximum, strict >)
//   and their indices, then the vertical maximum of those over the window's rows (strict >):
//   the first row holding the window's maximum, at its first column, which is the row-major first
//   maximum. Horizontal padding is -inf, which never wins (strict >, starting from -inf), and the
//   index starts at the window's first real cell, as in the naive loop. NaN breaks the strict-
//   compare argument: a plane holding a NaN is left to the naive loop (the kernel says so).
// - Average pooling sums the window's taps in the naive loop's row-major order starting from
//   +0.f; the zero padding it adds in between changes nothing (s + 0 == s: s is never -0).
// - Average backward adds each output's share into the cells of its window in the naive loop's
//   order of outputs (ascending rows, then columns).
// Strided input columns are read from phase-split rows (phase p, index j: padded column
// SW * j + p), so every tap is a contiguous vector load. The 2x2 stride-2 unpadded window reads
// the rows directly (even/odd lanes of two loads).
//
// Measured (session 6, AVX-512 Xeon, 1 thread, interleaved A/B in one process against the
// previous kernels, thread CPU time, median of 7, machine shared so +-15%; batch 32):
//   max 3x3 s2 p1, 64 x 112x112 (ResNet stem):  241 ms -> 31 ms with argmax, 26 ms values only
//   max 3x3 s2 ceil, 64 x 112x112 (GoogLeNet):   229 ms -> 29 / 24 ms
//   max 3x3 s1 p1 ceil, 192 x 28x28 (Inception): 155 ms -> 15 / 11 ms
//   max 3x3 s2, 64 x 55x55 (AlexNet):            56 ms -> 10 / 8 ms
//   max 2x2 s2, 64 x 224x224 (VGG):               89 ms (old AVX2 path) -> 64 / 56 ms
//   max 2x2 s2, 16 x 10x10 (LeNet, x20 planes):   6.4 ms -> 6.4 / 2.7 ms
//   avg 3x3 s1 p1, 192 x 35x35 (Inception v3):   fwd 65 -> 16 ms, bwd 84 -> 39 ms
//   avg 2x2 s2, 128 x 56x56 (DenseNet):          fwd 31 -> 10 ms, bwd 40 -> 10 ms
// Reading the stem pool's 102 MB input alone takes ~12 ms on this machine, writing y and argmax
// ~9 ms: the 3x3 kernels are within ~1.5x of memory speed.
// End to end, inference (eval: values only), `cnn bench -c configs/models/M.yaml --batch 32
// --iters 3 --warmup 1 --layers --threads 1`, old and new binaries alternating, median of 3:
// pooling rows ResNet-50 316 -> 24 ms; GoogLeNet 1137 -> 162 ms (step 2189 -> 1159 ms);
// AlexNet 97 -> 21 ms.
#include "kernels/pool.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

namespace cnn::CNN_POOL_NS {
namespace {

// One SIMD register's worth of floats (GCC/Clang vector extension: AVX-512, AVX or SSE).
#if defined(__AVX512F__)
constexpr int VW = 16;
#elif defined(__AVX__)
constexpr int VW = 8;
#else
constexpr int VW = 4;
#endif
typedef float vf __attribute__((vector_size(VW * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(VW * sizeof(int32_t))));

inline vf ld(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline vi ldi(const int32_t* p) {
  vi v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void st(float* p, vf v) { std::memcpy(p, &v, sizeof v); }
inline void sti(int32_t* p, vi v) { std::memcpy(p, &v, sizeof v); }
inline vf splat(float s) { return s - vf{}; }  // s - 0 == s exactly (0 + s is not: -0.f)
inline vi splati(int32_t s) { return s - vi{}; }
inline int round_up(int n) { return (n + VW - 1) / VW * VW; }
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Lanes 0, 1, ..., VW-1; the even and odd lanes of the pair (a, b) (stride-2 de-interleave) and
// its inverse, the lanes of a and b alternating (interleave_lo: a0 b0 a1 b1 ..., _hi: the upper halves).
#if defined(__AVX512F__)
constexpr vi kIota = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
inline vf evens(vf a, vf b) {
  return __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
}
inline vf odds(vf a, vf b) {
  return __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
}
inline vf interleave_lo(vf a, vf b) {
  return __builtin_shufflevector(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
}
inline vf interleave_hi(vf a, vf b) {
  return __builtin_shufflevector(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
}
#elif defined(__AVX__)
constexpr vi kIota = {0, 1, 2, 3, 4, 5, 6, 7};
inline vf evens(vf a, vf b) { return __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14); }
inline vf odds(vf a, vf b) { return __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15); }
inline vf interleave_lo(vf a, vf b) { return __builtin_shufflevector(a, b, 0, 8, 1, 9, 2, 10, 3, 11); }
inline vf interleave_hi(vf a, vf b) { return __builtin_shufflevector(a, b, 4, 12, 5, 13, 6, 14, 7, 15); }
#else
constexpr vi kIota = {0, 1, 2, 3};
inline vf evens(vf a, vf b) { return __builtin_shufflevector(a, b, 0, 2, 4, 6); }
inline vf odds(vf a, vf b) { return __builtin_shufflevector(a, b, 1, 3, 5, 7); }
inline vf interleave_lo(vf a, vf b) { return __builtin_shufflevector(a, b, 0, 4, 1, 5); }
inline vf interleave_hi(vf a, vf b) { return __builtin_shufflevector(a, b, 2, 6, 3, 7); }
#endif

// d[i] = x[i * s] for i < n; x[0 .. avail) may be read and d[0 .. n + VW) written. Lanes of
// `nan` become nonzero where a copied value is NaN.
void copy_strided(const float* __restrict x, float* __restrict d, int n, int s, int avail, vi& nan) {
  int i = 0;
  if (s == 1) {
    for (; i < n && i + VW <= avail; i += VW) {
      const vf v = ld(x + i);
      nan |= v != v;
      st(d + i, v);
    }
  } else if (s == 2) {
    for (; i < n && 2 * (i + VW) <= avail; i += VW) {
      const vf v = evens(ld(x + 2 * i), ld(x + 2 * i + VW));
      nan |= v != v;
      st(d + i, v);
    }
  }
  for (; i < n; ++i) {
    d[i] = x[int64_t(i) * s];
    nan[0] |= d[i] != d[i];
  }
}

// The padded input columns a row of OW outputs reads, split into SW phases of PL floats:
// phase p, index j holds input column SW * j + p - PW, or `pad` outside the input.
struct PhaseRow {
  int L = 0;    // largest in-phase tap offset: (KW - 1) / SW
  int OWr = 0;  // OW rounded up to whole vectors
  int PL = 0;   // phase length: L + OWr
  int RL = 0;   // row length: SW * PL
  explicit PhaseRow(const PoolGeom& g) {
    L = (g.KW - 1) / g.SW;
    OWr = round_up(g.OW);
    PL = L + OWr;
    RL = g.SW * PL;
  }
  // Offset of tap column kw in the row.
  int tap(const PoolGeom& g, int kw) const { return (kw % g.SW) * PL + kw / g.SW; }
  // All KW offsets (no division in the inner loops).
  const int* taps(const PoolGeom& g, std::vector<int>& out) const {
    out.resize(size_t(g.KW));
    for (int kw = 0; kw < g.KW; ++kw) out[size_t(kw)] = tap(g, kw);
    return out.data();
  }
  // Fills d (RL floats, VW more writable) from input row x; with `more`, the next input row
  // follows x and whole vectors may read into it. Lanes of `nan` become nonzero if the row holds a NaN.
  void build(const float* x, const PoolGeom& g, bool more, float pad, float* d, vi& nan) const {
    for (int p = 0; p < g.SW; ++p, d += PL) {
      const int j0 = std::min(p >= g.PW ? 0 : (g.PW - p + g.SW - 1) / g.SW, PL);  // first real index
      const int q0 = g.SW * j0 + p - g.PW;                                        // its input column
      const int n = std::clamp(q0 < g.W ? (g.W - q0 + g.SW - 1) / g.SW : 0, 0, PL - j0);
      std::fill(d, d + j0, pad);
      if (n > 0) copy_strided(x + q0, d + j0, n, g.SW, g.W - q0 + (more ? g.W : 0), nan);
      std::fill(d + j0 + n, d + PL, pad);
    }
  }
};

// Scratch reused across calls (one per thread).
struct Scratch {
  std::vector<float> row, hv, f;
  std::vector<int32_t> hi, a, b;
  std::vector<int> taps;
  std::vector<const float*> hv_rows;
  std::vector<const int32_t*> hi_rows;
  template <class T>
  static T* at_least(std::vector<T>& v, size_t n) {
    if (v.size() < n) v.resize(n);
    return v.data();
  }
};
thread_local Scratch tl;

// Rows [0, rows) are the input rows some window reads.
int rows_read(const PoolGeom& g) { return std::clamp((g.OH - 1) * g.SH - g.PH + g.KH, 0, g.H); }

// Stores the first n lanes of v (whole vector when it fits).
inline void store_n(float* p, vf v, int n) {
  if (n >= VW) st(p, v);
  else std::memcpy(p, &v, sizeof(float) * size_t(n));
}
inline void store_ni(int32_t* p, vi v, int n) {
  if (n >= VW) sti(p, v);
  else std::memcpy(p, &v, sizeof(int32_t) * size_t(n));
}

// Horizontal maxima of input row h (phase-split in `row`, tap offsets `taps`) into hv (and their
// flat indices into hi, when WITH_ARG), OWr outputs. NK > 0 fixes the window width at compile time.
template <bool WITH_ARG, int NK>
void max_row(const PhaseRow& pr, const PoolGeom& g, const int* taps, const float* row, int h,
             const int32_t* first_col, float* hv, int32_t* hi) {
  const int nk = NK > 0 ? NK : g.KW;
  for (int o = 0; o < pr.OWr; o += VW) {
    vf best = splat(kNegInf);
    if constexpr (WITH_ARG) {
      vi at = ldi(first_col + o) + h * g.W;
      const vi col = (kIota + o) * g.SW + (h * g.W - g.PW);  // flat index of tap 0
      for (int kw = 0; kw < nk; ++kw) {
        const vf v = ld(row + taps[kw] + o);
        const vi m = v > best;
        best = m ? v : best;
        at = m ? col + kw : at;
      }
      sti(hi + o, at);
    } else {
      for (int kw = 0; kw < nk; ++kw) {
        const vf v = ld(row + taps[kw] + o);
        best = v > best ? v : best;
      }
    }
    st(hv + o, best);
  }
}

template <bool WITH_ARG>
void max_row_any(const PhaseRow& pr, const PoolGeom& g, const int* taps, const float* row, int h,
                 const int32_t* first_col, float* hv, int32_t* hi) {
  switch (g.KW) {
    case 2: return max_row<WITH_ARG, 2>(pr, g, taps, row, h, first_col, hv, hi);
    case 3: return max_row<WITH_ARG, 3>(pr, g, taps, row, h, first_col, hv, hi);
    default: return max_row<WITH_ARG, 0>(pr, g, taps, row, h, first_col, hv, hi);
  }
}

// The vertical maxima over the horizontal rows hv[0 .. nr) (indices hi) into output row yo / ao.
// NR > 0 fixes the row count at compile time.
template <bool WITH_ARG, int NR>
void max_column(int nr, const float* const* hv, const int32_t* const* hi, int OW, float* yo, int32_t* ao) {
  const int n = NR > 0 ? NR : nr;
  for (int o = 0; o < OW; o += VW) {
    vf best = splat(kNegInf);
    if constexpr (WITH_ARG) {
      vi at = ldi(hi[0] + o);
      for (int r = 0; r < n; ++r) {
        const vf v = ld(hv[r] + o);
        const vi m = v > best;
        best = m ? v : best;
        at = m ? ldi(hi[r] + o) : at;
      }
      store_ni(ao + o, at, OW - o);
    } else {
      for (int r = 0; r < n; ++r) {
        const vf v = ld(hv[r] + o);
        best = v > best ? v : best;
      }
    }
    store_n(yo + o, best, OW - o);
  }
}

// The horizontal rows live in a ring of KH slots (row h in slot h % KH): an output row reads at
// most KH consecutive rows, the last ones computed, and the ring stays in L1. (Keeping every
// row instead cost 30% on a 224-wide 2x2 pool: the rows went through L2.)
template <bool WITH_ARG>
bool maxpool_plane(const float* x, const PoolGeom& g, float* y, int32_t* argmax) {
  const PhaseRow pr(g);
  const int OWr = pr.OWr;
  float* row = Scratch::at_least(tl.row, size_t(pr.RL + VW));
  float* hv = Scratch::at_least(tl.hv, size_t(g.KH) * OWr);
  int32_t* hi = WITH_ARG ? Scratch::at_least(tl.hi, size_t(g.KH) * OWr) : nullptr;
  const float** hvr = Scratch::at_least(tl.hv_rows, size_t(g.KH));
  const int32_t** hir = Scratch::at_least(tl.hi_rows, size_t(g.KH));
  const int* taps = pr.taps(g, tl.taps);
  int32_t* first_col = Scratch::at_least(tl.a, size_t(OWr));  // the window's first real column
  for (int ow = 0; ow < OWr; ++ow) first_col[ow] = std::max(ow * g.SW - g.PW, 0);
  int done = 0;  // horizontal rows computed, computed as the output rows need them
  vi nan = vi{};
  for (int oh = 0; oh < g.OH; ++oh) {
    const int h0 = std::max(oh * g.SH - g.PH, 0), h1 = std::min(oh * g.SH - g.PH + g.KH, g.H);
    for (; done < h1; ++done) {
      pr.build(x + int64_t(done) * g.W, g, done + 1 < g.H, kNegInf, row, nan);
      const int slot = done % g.KH;
      max_row_any<WITH_ARG>(pr, g, taps, row, done, first_col, hv + slot * OWr, WITH_ARG ? hi + slot * OWr : nullptr);
    }
    const int nr = h1 - h0;
    for (int r = 0; r < nr; ++r) {
      hvr[r] = hv + (h0 + r) % g.KH * OWr;
      if (WITH_ARG) hir[r] = hi + (h0 + r) % g.KH * OWr;
    }
    float* yo = y + int64_t(oh) * g.OW;
    int32_t* ao = WITH_ARG ? argmax + int64_t(oh) * g.OW : nullptr;
    switch (nr) {
      case 2: max_column<WITH_ARG, 2>(nr, hvr, hir, g.OW, yo, ao); break;
      case 3: max_column<WITH_ARG, 3>(nr, hvr, hir, g.OW, yo, ao); break;
      default: max_column<WITH_ARG, 0>(nr, hvr, hir, g.OW, yo, ao);
    }
  }
  for (int l = 0; l < VW; ++l)  // once per plane: a NaN makes the results wrong, and rare
    if (nan[l]) return false;
  return true;
}

// The 2x2 stride-2 unpadded window with whole windows only (no ceil-mode overhang).
bool plain2x2(const PoolGeom& g) {
  return g.KH == 2 && g.KW == 2 && g.SH == 2 && g.SW == 2 && g.PH == 0 && g.PW == 0 && 2 * g.OH <= g.H &&
         2 * g.OW <= g.W;
}

// Vectors of N lanes for the 2x2 kernel, which also runs half-width vectors on narrow rows.
template <int N>
struct Lanes {
  typedef float f __attribute__((vector_size(N * sizeof(float))));
  typedef int32_t i __attribute__((vector_size(N * sizeof(int32_t))));
};
template <int N, int... I>
void split_pair(typename Lanes<N>::f a, typename Lanes<N>::f b, typename Lanes<N>::f& even,
                typename Lanes<N>::f& odd, std::integer_sequence<int, I...>) {
  even = __builtin_shufflevector(a, b, (2 * I)...);
  odd = __builtin_shufflevector(a, b, (2 * I + 1)...);
}
// Each lane of v twice: lo = v0 v0 v1 v1 ..., hi the same from lane N/2 on.
template <int N, int... I>
void dup_lanes(typename Lanes<N>::f v, typename Lanes<N>::f& lo, typename Lanes<N>::f& hi,
               std::integer_sequence<int, I...>) {
  lo = __builtin_shufflevector(v, v, (I / 2)...);
  hi = __builtin_shufflevector(v, v, (N / 2 + I / 2)...);
}
// Lanes l of (even, odd): p[2l], p[2l + 1].
template <int N>
void load_split(const float* p, typename Lanes<N>::f& even, typename Lanes<N>::f& odd) {
  typename Lanes<N>::f a, b;
  std::memcpy(&a, p, sizeof a);
  std::memcpy(&b, p + N, sizeof b);
  split_pair<N>(a, b, even, odd, std::make_integer_sequence<int, N>{});
}

// N outputs of the 2x2 stride-2 unpadded pool from rows p0, p1 (2N values each; col: the flat
// index of p0[0]). The first maximum of each row pair, then the second row wins only when strictly
// greater: the row-major first maximum. Lanes of nan become nonzero where a window held a NaN.
template <bool WITH_ARG, int N>
[[gnu::always_inline]] inline void max2x2_vector(const float* p0, const float* p1, int W, int32_t col,
                                                 typename Lanes<N>::f& v, typename Lanes<N>::i& at,
                                                 typename Lanes<N>::i& nan) {
  using f = typename Lanes<N>::f;
  using i = typename Lanes<N>::i;
  f a, b, c, d;
  load_split<N>(p0, a, b);
  load_split<N>(p1, c, d);
  nan |= (a != a) | (b != b) | (c != c) | (d != d);
  const i right0 = b > a, right1 = d > c;
  const f top = right0 ? b : a, bottom = right1 ? d : c;
  const i down = bottom > top;
  v = down ? bottom : top;
  if constexpr (WITH_ARG) {
    i cols;
    for (int l = 0; l < N; ++l) cols[l] = col + 2 * l;
    at = down ? cols + W - right1 : cols - right0;  // masks are -1: minus one is plus one
  }
}

// Outputs [ow, ...) of one row of the pool, N at a time while whole vectors fit (rows r0, r1;
// flat index of r0[0] is base). Returns the next ow.
template <bool WITH_ARG, int N>
int max2x2_run(const float* r0, const float* r1, int W, int OW, int32_t base, int ow, float* yo, int32_t* ao,
               typename Lanes<N>::i& nan) {
  for (; ow + N <= OW; ow += N) {
    typename Lanes<N>::f v;
    typename Lanes<N>::i at;
    max2x2_vector<WITH_ARG, N>(r0 + 2 * ow, r1 + 2 * ow, W, base + 2 * ow, v, at, nan);
    std::memcpy(yo + ow, &v, sizeof v);
    if constexpr (WITH_ARG) std::memcpy(ao + ow, &at, sizeof at);
  }
  return ow;
}

// The last outputs [ow, OW) of a row (fewer than N): their windows copied into zero-filled rows
// of N pairs (zeros hold no NaN; their lanes are dropped). Measured (session 25, Intel Xeon
// AVX-512, LeNet-5 training at batch 64, `perf`): the scalar loop over these (6 of a 14-wide row,
// all of a 5-wide one) took 10.6% of the step.
template <bool WITH_ARG, int N>
void max2x2_tail(const float* r0, const float* r1, int W, int OW, int32_t base, int ow, float* yo, int32_t* ao,
                 typename Lanes<N>::i& nan) {
  const int n = OW - ow;
  float p0[2 * N] = {}, p1[2 * N] = {};
  std::memcpy(p0, r0 + 2 * ow, sizeof(float) * size_t(2 * n));
  std::memcpy(p1, r1 + 2 * ow, sizeof(float) * size_t(2 * n));
  typename Lanes<N>::f v;
  typename Lanes<N>::i at;
  max2x2_vector<WITH_ARG, N>(p0, p1, W, base + 2 * ow, v, at, nan);
  std::memcpy(yo + ow, &v, sizeof(float) * size_t(n));
  if constexpr (WITH_ARG) std::memcpy(ao + ow, &at, sizeof(int32_t) * size_t(n));
}

// The common 2x2 stride-2 window without padding (VGG, LeNet, U-Net), straight from the input
// rows: no phase-split copy, which on 10x10 planes cost twice the old AVX2 kernel.
template <bool WITH_ARG>
bool maxpool2x2_plane(const float* x, const PoolGeom& g, float* y, int32_t* argmax) {
  constexpr int TW = VW > 4 ? VW / 2 : VW;  // the tail's vectors: what is left is narrower
  typename Lanes<VW>::i nan = {};
  typename Lanes<TW>::i nan_tail = {};
  for (int oh = 0; oh < g.OH; ++oh) {
    const float* r0 = x + int64_t(2 * oh) * g.W;
    const float* r1 = r0 + g.W;
    float* yo = y + int64_t(oh) * g.OW;
    int32_t* ao = WITH_ARG ? argmax + int64_t(oh) * g.OW : nullptr;
    const int32_t base = 2 * oh * g.W;
    int ow = max2x2_run<WITH_ARG, VW>(r0, r1, g.W, g.OW, base, 0, yo, ao, nan);
    if constexpr (TW < VW) ow = max2x2_run<WITH_ARG, TW>(r0, r1, g.W, g.OW, base, ow, yo, ao, nan_tail);
    if (ow < g.OW) max2x2_tail<WITH_ARG, TW>(r0, r1, g.W, g.OW, base, ow, yo, ao, nan_tail);
  }
  int any = 0;
  for (int l = 0; l < VW; ++l) any |= nan[l] | (l < TW ? nan_tail[l] : 0);
  return any == 0;
}

// Small planes of the 2x2 window whose rows split into whole pairs (W == 2 * OW): the used rows
// as one flat run of pairs. Pass 1 takes each pair's maximum (first on ties) and index, pair j
// of the run being row j / OW's pair j % OW, into a scratch row of OH * W pairs; pass 2 takes
// output row oh from the pair rows 2 oh and 2 oh + 1 (the lower wins only when strictly
// greater). Neither pass has a tail per image row, which is what the row kernel spends its time
// on when rows are shorter than a vector. Measured (session 30, Intel Xeon, AVX-512, one thread,
// with indices, LeNet-5's planes): 10x10 118-141 -> 40-58 ns a plane, 28x28 490-520 -> 142-178,
// 14x14 217 -> 81, 20x20 283-355 -> 86-94; LeNet-5 b64 training 29.2k -> 33.1k images/s (9
// alternating runs, medians, with the flat backward below).
constexpr int kFlatPairs = 4096;  // the scratch rows stay in L1
// Smaller planes scatter faster (the naive loop: 10x10 20-38 against 48-71 ns, 14x14 77-81
// against 111-115, 20x20 116-187 against 131-133; 28x28 340-430 against 216-235).
constexpr int kFlatBackwardOutputs = 128;
bool flat2x2(const PoolGeom& g) { return plain2x2(g) && g.W == 2 * g.OW && g.OH * g.W <= kFlatPairs; }

template <bool WITH_ARG>
bool maxpool2x2_flat(const float* x, const PoolGeom& g, float* y, int32_t* argmax) {
  const int pairs = g.OH * g.W;
  float* hv = Scratch::at_least(tl.hv, size_t(pairs + VW));
  int32_t* hi = WITH_ARG ? Scratch::at_least(tl.hi, size_t(pairs + VW)) : nullptr;
  vi nan = vi{};
  for (int j = 0; j < pairs; j += VW) {
    vf a, b;
    if (j + VW <= pairs) {
      a = ld(x + 2 * j), b = ld(x + 2 * j + VW);
    } else {  // the last pairs, zero-filled (zeros hold no NaN; their lanes are dropped)
      float t[2 * VW] = {};
      std::memcpy(t, x + 2 * j, sizeof(float) * size_t(2 * (pairs - j)));
      a = ld(t), b = ld(t + VW);
    }
    nan |= (a != a) | (b != b);
    const vf e = evens(a, b), o = odds(a, b);
    const vi right = o > e;
    st(hv + j, right ? o : e);
    if constexpr (WITH_ARG) sti(hi + j, (kIota + j) * 2 - right);  // masks are -1
  }
  // Whole vectors straight into y while they end inside the plane (the next row overwrites the
  // spill), the rest into a scratch tail copied once.
  const int n = g.OH * g.OW;
  int tail = -1;  // where the scratch tail starts in y
  float ty[2 * VW];
  int32_t ta[2 * VW];
  for (int oh = 0; oh < g.OH; ++oh) {
    const int top = 2 * oh * g.OW, bottom = top + g.OW;
    for (int o = 0; o < g.OW; o += VW) {
      const vf t = ld(hv + top + o), b = ld(hv + bottom + o);
      const vi down = b > t;
      const int at = oh * g.OW + o;
      if (tail < 0 && at + VW > n) tail = at;
      st(tail < 0 ? y + at : ty + (at - tail), down ? b : t);
      if constexpr (WITH_ARG) sti(tail < 0 ? argmax + at : ta + (at - tail), down ? ldi(hi + bottom + o) : ldi(hi + top + o));
    }
  }
  if (tail >= 0) {
    std::memcpy(y + tail, ty, sizeof(float) * size_t(n - tail));
    if constexpr (WITH_ARG) std::memcpy(argmax + tail, ta, sizeof(int32_t) * size_t(n - tail));
  }
  int any = 0;
  for (int l = 0; l < VW; ++l) any |= nan[l];
  return any == 0;
}

// Its backward, each input cell written once: per output row, the gradient (0 + dy: the naive
// loop's one addition, -0 becomes +0; with the ReLU taken, only where y > 0) goes to the even or
// odd cell of the upper or lower pair row (zeros elsewhere) in two scratch runs of pairs, then the
// runs interleave into dx. Rows no window reads get zeros.
template <bool RELU>
void maxpool2x2_flat_backward(const float* dy, const float* y, const int32_t* argmax, const PoolGeom& g, float* dx) {
  const int pairs = g.OH * g.W, n = g.OH * g.OW;
  float* even = Scratch::at_least(tl.hv, size_t(pairs + VW));
  float* odd = Scratch::at_least(tl.f, size_t(pairs + VW));
  // The plane's last VW outputs, zero-padded: the vectors that would read past the plane read here.
  const int c = std::max(n - VW, 0);
  float td[2 * VW] = {}, tv[2 * VW] = {};
  int32_t ta[2 * VW] = {};
  std::memcpy(td, dy + c, sizeof(float) * size_t(n - c));
  std::memcpy(ta, argmax + c, sizeof(int32_t) * size_t(n - c));
  if constexpr (RELU) std::memcpy(tv, y + c, sizeof(float) * size_t(n - c));
  // The upper pair row, then the lower one: a row's last vector spills into the next row, which
  // is written after it.
  for (int r = 0; r < 2 * g.OH; ++r) {
    const int oh = r / 2, top = 2 * oh * g.OW;
    const vi lower = splati(top * 2 + g.W);  // the first index of the lower row
    const vi lower_row = splati(r % 2 ? -1 : 0);
    float* e_row = even + r * g.OW;
    float* o_row = odd + r * g.OW;
    for (int o = 0; o < g.OW; o += VW) {
      const int at = oh * g.OW + o;
      const bool inside = at + VW <= n;
      vf d = inside ? ld(dy + at) : ld(td + (at - c));
      const vi a = inside ? ldi(argmax + at) : ldi(ta + (at - c));
      if constexpr (RELU) d = (inside ? ld(y + at) : ld(tv + (at - c))) > 0.f ? d : vf{};
      d = vf{} + d;
      const vi here = (a >= lower) == lower_row, right = (a & 1) != 0;
      st(e_row + o, here & ~right ? d : vf{});
      st(o_row + o, here & right ? d : vf{});
    }
  }
  int j = 0;
  for (; j + VW <= pairs; j += VW) {
    const vf e = ld(even + j), o = ld(odd + j);
    st(dx + 2 * j, interleave_lo(e, o));
    st(dx + 2 * j + VW, interleave_hi(e, o));
  }
  if (j < pairs) {
    const vf e = ld(even + j), o = ld(odd + j);
    float t[2 * VW];
    st(t, interleave_lo(e, o));
    st(t + VW, interleave_hi(e, o));
    std::memcpy(dx + 2 * j, t, sizeof(float) * size_t(2 * (pairs - j)));
  }
  std::fill(dx + 2 * pairs, dx + int64_t(g.H) * g.W, 0.f);
}

// Average pooling's 2x2 stride-2 unpadded window (DenseNet's transitions), straight from the
// rows: every divisor is 4; the sum in the naive loop's order.
void avgpool2x2_plane(const float* x, const PoolGeom& g, float* y) {
  using f = Lanes<VW>::f;
  const float inv = 1.0f / 4.0f;
  for (int oh = 0; oh < g.OH; ++oh) {
    const float* r0 = x + int64_t(2 * oh) * g.W;
    const float* r1 = r0 + g.W;
    float* yo = y + int64_t(oh) * g.OW;
    int ow = 0;
    for (; ow + VW <= g.OW; ow += VW) {
      f a, b, c, d;
      load_split<VW>(r0 + 2 * ow, a, b);
      load_split<VW>(r1 + 2 * ow, c, d);
      const f v = (((f{} + a) + b) + c + d) * inv;
      std::memcpy(yo + ow, &v, sizeof v);
    }
    for (; ow < g.OW; ++ow) yo[ow] = (((0.f + r0[2 * ow]) + r0[2 * ow + 1]) + r1[2 * ow] + r1[2 * ow + 1]) * inv;
  }
}

// Its backward: each input cell is in one window at most, so dx = 0 + dy / 4 there (the naive
// loop's one addition: -0 becomes +0) and 0 elsewhere.
void avgpool2x2_backward_plane(const float* dy, const PoolGeom& g, float* dx) {
  using f = Lanes<VW>::f;
  const float inv = 1.0f / 4.0f;
  for (int oh = 0; oh < g.OH; ++oh) {
    const float* d = dy + int64_t(oh) * g.OW;
    float* r0 = dx + int64_t(2 * oh) * g.W;
    float* r1 = r0 + g.W;
    int ow = 0;
    for (; ow + VW <= g.OW; ow += VW) {
      f v;
      std::memcpy(&v, d + ow, sizeof v);
      v = f{} + v * inv;
      f a, b;  // v0 v0 v1 v1 ...
      dup_lanes<VW>(v, a, b, std::make_integer_sequence<int, VW>{});
      std::memcpy(r0 + 2 * ow, &a, sizeof a), std::memcpy(r0 + 2 * ow + VW, &b, sizeof b);
      std::memcpy(r1 + 2 * ow, &a, sizeof a), std::memcpy(r1 + 2 * ow + VW, &b, sizeof b);
    }
    for (; ow < g.OW; ++ow) r0[2 * ow] = r0[2 * ow + 1] = r1[2 * ow] = r1[2 * ow + 1] = 0.f + d[ow] * inv;
    for (int w = 2 * g.OW; w < g.W; ++w) r0[w] = r1[w] = 0.f;
  }
  std::fill(dx + int64_t(2 * g.OH) * g.W, dx + int64_t(g.H) * g.W, 0.f);
}

// PyTorch's divisor parts along one axis for output i: the window clipped to the padded input
// (pool) and to the input (real).
inline void window_counts(int i, int K, int S, int P, int n, int& pool, int& real) {
  const int a = i * S - P, b = std::min(a + K, n + P);
  pool = b - a;
  real = std::min(b, n) - std::max(a, 0);
}

// 1 / divisor of each output of row oh (OWr lanes), as the naive loop computes it.
void row_inverse(const PoolGeom& g, int oh, const int32_t* col_pool, const int32_t* col_real, float* inv) {
  int rp, rr;
  window_counts(oh, g.KH, g.SH, g.PH, g.H, rp, rr);
  const int OWr = round_up(g.OW);
  for (int o = 0; o < OWr; o += VW) {
    const vi div = g.count_include_pad ? rp * ldi(col_pool + o) : rr * ldi(col_real + o);
    const vf d = __builtin_convertvector(div, vf);
    st(inv + o, div > 0 ? 1.0f / d : vf{});
  }
}

// Column divisor parts of every output column (lanes past OW: 1).
void column_counts(const PoolGeom& g, int32_t* col_pool, int32_t* col_real) {
  const int OWr = round_up(g.OW);
  for (int ow = 0; ow < OWr; ++ow) {
    int p = 1, r = 1;
    if (ow < g.OW) window_counts(ow, g.KW, g.SW, g.PW, g.W, p, r);
    col_pool[ow] = p, col_real[ow] = r;
  }
}

}  // namespace

bool maxpool2d_forward(const float* x, const PoolGeom& g, float* y, int32_t* argmax) {
  if (flat2x2(g))
    return argmax ? maxpool2x2_flat<true>(x, g, y, argmax) : maxpool2x2_flat<false>(x, g, y, nullptr);
  if (plain2x2(g))
    return argmax ? maxpool2x2_plane<true>(x, g, y, argmax) : maxpool2x2_plane<false>(x, g, y, nullptr);
  return argmax ? maxpool_plane<true>(x, g, y, argmax) : maxpool_plane<false>(x, g, y, nullptr);
}

bool maxpool2d_backward(const float* dy, const float* y, const int32_t* argmax, const PoolGeom& g, float* dx) {
  if (!flat2x2(g) || g.OH * g.OW < kFlatBackwardOutputs) return false;
  if (y) maxpool2x2_flat_backward<true>(dy, y, argmax, g, dx);
  else maxpool2x2_flat_backward<false>(dy, nullptr, argmax, g, dx);
  return true;
}

void avgpool2d_forward(const float* x, const PoolGeom& g, float* y) {
  if (plain2x2(g)) return avgpool2x2_plane(x, g, y);
  const PhaseRow pr(g);
  const int rows = rows_read(g), OWr = pr.OWr;
  float* buf = Scratch::at_least(tl.hv, size_t(rows) * pr.RL + VW);  // every row read, phase-split
  vi nan = vi{};  // not needed: sums carry NaN
  for (int h = 0; h < rows; ++h) pr.build(x + int64_t(h) * g.W, g, h + 1 < g.H, 0.f, buf + int64_t(h) * pr.RL, nan);
  int32_t* col_pool = Scratch::at_least(tl.a, size_t(OWr));
  int32_t* col_real = Scratch::at_least(tl.b, size_t(OWr));
  float* inv = Scratch::at_least(tl.f, size_t(OWr));
  const int* taps = pr.taps(g, tl.taps);
  column_counts(g, col_pool, col_real);
  for (int oh = 0; oh < g.OH; ++oh) {
    const int h0 = std::max(oh * g.SH - g.PH, 0), h1 = std::min(oh * g.SH - g.PH + g.KH, g.H);
    row_inverse(g, oh, col_pool, col_real, inv);
    for (int o = 0; o < g.OW; o += VW) {
      vf s = vf{};
      for (int h = h0; h < h1; ++h) {
        const float* r = buf + int64_t(h) * pr.RL + o;
        for (int kw = 0; kw < g.KW; ++kw) s += ld(r + taps[kw]);
      }
      store_n(y + int64_t(oh) * g.OW + o, s * ld(inv + o), g.OW - o);
    }
  }
}

void avgpool2d_backward(const float* dy, const PoolGeom& g, float* dx) {
  if (plain2x2(g)) return avgpool2x2_backward_plane(dy, g, dx);
  const PhaseRow pr(g);
  const int rows = rows_read(g), OWr = pr.OWr;
  float* buf = Scratch::at_least(tl.hv, size_t(rows) * pr.RL);  // dx of the rows read, phase-split
  std::fill(buf, buf + int64_t(rows) * pr.RL, 0.f);
  int32_t* col_pool = Scratch::at_least(tl.a, size_t(OWr));
  int32_t* col_real = Scratch::at_least(tl.b, size_t(OWr));
  float* d = Scratch::at_least(tl.f, size_t(OWr));
  float* inv = Scratch::at_least(tl.row, size_t(OWr));
  const int* taps = pr.taps(g, tl.taps);
  column_counts(g, col_pool, col_real);
  for (int oh = 0; oh < g.OH; ++oh) {
    const int h0 = std::max(oh * g.SH - g.PH, 0), h1 = std::min(oh * g.SH - g.PH + g.KH, g.H);
    row_inverse(g, oh, col_pool, col_real, inv);
    // Each output's share; lanes past OW add +0, which changes no cell (never -0).
    std::memcpy(d, dy + int64_t(oh) * g.OW, sizeof(float) * size_t(g.OW));
    std::fill(d + g.OW, d + OWr, 0.f);
    for (int o = 0; o < OWr; o += VW) st(d + o, ld(d + o) * ld(inv + o));
    // A cell of row h gets one output per tap column: descending kw is ascending ow.
    for (int h = h0; h < h1; ++h)
      for (int kw = g.KW - 1; kw >= 0; --kw) {
        float* r = buf + int64_t(h) * pr.RL + taps[kw];
        for (int o = 0; o < OWr; o += VW) st(r + o, ld(r + o) + ld(d + o));
      }
  }
  // Back from phases to columns; rows no window reads get nothing.
  for (int h = 0; h < rows; ++h) {
    const float* r = buf + int64_t(h) * pr.RL;
    float* out = dx + int64_t(h) * g.W;
    for (int w = 0; w < g.W; ++w) {
      const int c = w + g.PW;  // columns past the phase rows are read by no window
      out[w] = c / g.SW < pr.PL ? r[(c % g.SW) * pr.PL + c / g.SW] : 0.f;
    }
  }
  std::fill(dx + int64_t(rows) * g.W, dx + int64_t(g.H) * g.W, 0.f);
}

}  // namespace cnn::CNN_POOL_NS
