// The depthwise kernels, compiled once per ISA: depthwise_avx512.cpp, depthwise_avx2.cpp and
// depthwise_generic.cpp each define CNN_DEPTHWISE_NS and include this file with their own compiler
// flags (the vector width follows them); depthwise.cpp dispatches on active_isa().
// No #pragma once: included once per ISA translation unit. Calls between the public functions are
// qualified: ADL on ConvGeom would also find the dispatchers in namespace cnn.
#include "kernels/depthwise.h"
#include "kernels/add_clamp_impl.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/parallel.h"
#include "core/workspace.h"

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace cnn::CNN_DEPTHWISE_NS {
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

inline vf ld(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void st(float* p, vf v) { std::memcpy(p, &v, sizeof v); }
inline vf splat(float s) { return s - vf{}; }  // s - 0 == s exactly: a plain broadcast (0 + s is not: -0.f)
inline float hsum(vf v) {
  float s = 0;
  for (int l = 0; l < VW; ++l) s += v[l];
  return s;
}
inline int round_up(int n) { return (n + VW - 1) / VW * VW; }

// out[i] = b + sum_t wt[t] * src[t][i] for i < n; reads src[t][0 .. round_up(n)). With `room`,
// out has space for round_up(n) floats (whole vectors are stored past n). NT > 0 fixes the tap
// count at compile time (the 3x3 interior rows).
template <int NT>
void taps_row(int nt, const float* wt, const float* const* src, float b, int n, float* out, bool room) {
  const int cnt = NT > 0 ? NT : nt;
  const int nv = room ? round_up(n) : n / VW * VW;  // floats stored as whole vectors
  int i = 0;
  for (; i + 4 * VW <= nv; i += 4 * VW) {
    vf a0 = splat(b), a1 = a0, a2 = a0, a3 = a0;
    for (int t = 0; t < cnt; ++t) {
      const vf wv = splat(wt[t]);
      const float* s = src[t] + i;
      a0 += wv * ld(s);
      a1 += wv * ld(s + VW);
      a2 += wv * ld(s + 2 * VW);
      a3 += wv * ld(s + 3 * VW);
    }
    st(out + i, a0), st(out + i + VW, a1), st(out + i + 2 * VW, a2), st(out + i + 3 * VW, a3);
  }
  for (; i + 2 * VW <= nv; i += 2 * VW) {
    vf a0 = splat(b), a1 = a0;
    for (int t = 0; t < cnt; ++t) {
      const vf wv = splat(wt[t]);
      a0 += wv * ld(src[t] + i);
      a1 += wv * ld(src[t] + i + VW);
    }
    st(out + i, a0), st(out + i + VW, a1);
  }
  for (; i < nv; i += VW) {
    vf a = splat(b);
    for (int t = 0; t < cnt; ++t) a += splat(wt[t]) * ld(src[t] + i);
    st(out + i, a);
  }
  if (i < n) {
    vf a = splat(b);
    for (int t = 0; t < cnt; ++t) a += splat(wt[t]) * ld(src[t] + i);
    std::memcpy(out + i, &a, sizeof(float) * size_t(n - i));
  }
}

void run_taps(int nt, const float* wt, const float* const* src, float b, int n, float* out, bool room) {
  if (nt == 9) taps_row<9>(nt, wt, src, b, n, out, room);
  else taps_row<0>(nt, wt, src, b, n, out, room);
}

// The 3x3 fast path: runs of rows where all nine taps exist, the weights held in registers.
// Row k of the run: out[k*ostep + i] = b + sum_{a,c} w[a*3+c] * (base[a] + k*step)[o[c] + i] for
// i < n. ROOM: whole vectors may be stored past n (see taps_row).
template <bool ROOM>
void rows3x3(const float* const* base, int64_t step, const int* o, const float* w, float b, int n, float* out,
             int64_t ostep, int nrows) {
  const vf w0 = splat(w[0]), w1 = splat(w[1]), w2 = splat(w[2]), w3 = splat(w[3]), w4 = splat(w[4]);
  const vf w5 = splat(w[5]), w6 = splat(w[6]), w7 = splat(w[7]), w8 = splat(w[8]), bv = splat(b);
  const int nv = ROOM ? round_up(n) : n / VW * VW;
  for (int k = 0; k < nrows; ++k) {
    const float* r0 = base[0] + k * step;
    const float* r1 = base[1] + k * step;
    const float* r2 = base[2] + k * step;
    const float *s0 = r0 + o[0], *s1 = r0 + o[1], *s2 = r0 + o[2], *s3 = r1 + o[0], *s4 = r1 + o[1];
    const float *s5 = r1 + o[2], *s6 = r2 + o[0], *s7 = r2 + o[1], *s8 = r2 + o[2];
    float* y = out + k * ostep;
    auto at = [&](int i) {
      vf a = bv + w0 * ld(s0 + i);
      a += w1 * ld(s1 + i);
      a += w2 * ld(s2 + i);
      a += w3 * ld(s3 + i);
      a += w4 * ld(s4 + i);
      a += w5 * ld(s5 + i);
      a += w6 * ld(s6 + i);
      a += w7 * ld(s7 + i);
      a += w8 * ld(s8 + i);
      return a;
    };
    int i = 0;
    for (; i + 4 * VW <= nv; i += 4 * VW) {
      const vf a0 = at(i), a1 = at(i + VW), a2 = at(i + 2 * VW), a3 = at(i + 3 * VW);
      st(y + i, a0), st(y + i + VW, a1), st(y + i + 2 * VW, a2), st(y + i + 3 * VW, a3);
    }
    for (; i < nv; i += VW) st(y + i, at(i));
    if (!ROOM && i < n) {
      const vf a = at(i);
      std::memcpy(y + i, &a, sizeof(float) * size_t(n - i));
    }
  }
}

// Rows [k0, k1) of a plane of `rows` rows of n floats through rows3x3: whole-vector stores while
// they stay inside the plane.
void run_rows3x3(const float* const* base, int64_t step, const int* o, const float* w, float b, int n, float* out,
                 int rows, int k0, int k1) {
  const int kr = std::clamp(rows - (VW - 1 + n - 1) / n, k0, k1);  // rows before kr have room
  const float* bk[3] = {base[0], base[1], base[2]};
  if (kr > k0) rows3x3<true>(bk, step, o, w, b, n, out + int64_t(k0) * n, n, kr - k0);
  for (auto& p : bk) p += (kr - k0) * step;
  if (k1 > kr) rows3x3<false>(bk, step, o, w, b, n, out + int64_t(kr) * n, n, k1 - kr);
}

// Tap lists and per-plane index tables, reused across calls.
struct Taps {
  std::vector<float> w;
  std::vector<const float*> src;
  std::vector<int> a, b, c;
  void reserve(size_t n, size_t k) {
    if (w.size() < n) w.resize(n), src.resize(n);
    if (a.size() < k) a.resize(k), b.resize(k), c.resize(k);
  }
};

// t / s when s divides t (common strides without a division).
inline bool exact_div(int t, int s, int& q) {
  if (s == 1) return q = t, true;
  if (s == 2) return q = t >> 1, (t & 1) == 0;
  q = t / s;
  return t % s == 0;
}
thread_local Taps tl_taps;

// d[i] = x[i * stride] for i < n.
void copy_strided(const float* __restrict x, float* __restrict d, int n, int stride) {
  for (int i = 0; i < n; ++i) d[i] = x[i * stride];
}

// The zero-padded, phase-split copy of an input plane: buffered row ih (padded row ih + PH)
// holds SW phases of PL floats; padded column c is at phase c % SW, index c / SW.
struct InputRows {
  int L = 0;     // largest in-phase tap offset: (KW-1)*DW / SW
  int OWr = 0;   // OW rounded up to whole vectors
  int PL = 0;    // phase length: L + OWr
  int RL = 0;    // row length: SW * PL
  int rows = 0;  // buffered input rows (those some output reads)

  explicit InputRows(const ConvGeom& g) {
    L = (g.KW - 1) * g.DW / g.SW;
    OWr = round_up(g.OW);
    PL = L + OWr;
    RL = g.SW * PL;
    const int needed = g.OH > 0 ? (g.OH - 1) * g.SH + (g.KH - 1) * g.DH + 1 : 0;  // padded rows read
    rows = std::clamp(needed - g.PH, 0, g.H);
  }
  size_t floats() const { return size_t(rows + 1) * RL; }  // plus a zero row
  // Fills buf; returns the zero row.
  const float* build(const float* x, const ConvGeom& g, float* buf) const {
    float* zero = buf + int64_t(rows) * RL;
    for (int p = 0; p < g.SW; ++p) {
      // Index i of phase p holds input column p + SW*i - PW when that is inside [0, W).
      const int a = g.PW - p, e = g.W + g.PW - p;
      int lo = a > 0 ? (a + g.SW - 1) / g.SW : 0;
      int hi = e > 0 ? (e - 1) / g.SW + 1 : 0;
      hi = std::min(hi, PL);
      lo = std::min(lo, hi);
      const int n = hi - lo;
      const float* xs = x + lo * g.SW + p - g.PW;
      float* d = buf + p * PL;
      for (int ih = 0; ih < rows; ++ih, xs += g.W, d += RL) {
        for (int i = 0; i < lo; ++i) d[i] = 0.f;
        if (g.SW == 1) std::memcpy(d + lo, xs, sizeof(float) * size_t(n));
        else copy_strided(xs, d + lo, n, g.SW);
        for (int i = hi; i < PL; ++i) d[i] = 0.f;
      }
    }
    std::fill(zero, zero + RL, 0.f);
    return zero;
  }
  // Padded row r, or null when it is padding (or never read).
  const float* row(const float* buf, const ConvGeom& g, int r) const {
    const int ih = r - g.PH;
    return ih >= 0 && ih < rows ? buf + int64_t(ih) * RL : nullptr;
  }
  // Offset of tap column kj within a row.
  int col(const ConvGeom& g, int kj) const {
    const int c = kj * g.DW;
    return (c % g.SW) * PL + c / g.SW;
  }
};

// Output-gradient rows for backward-data: each dy row with L zeros in front and zeros after, so a
// tap at in-phase offset o reads dy[q - o] for q in [q0, q0 + QNr) without bounds checks.
struct GradRows {
  int L = 0, q0 = 0, QN = 0, QNr = 0, RL = 0;
  explicit GradRows(const ConvGeom& g) {
    L = (g.KW - 1) * g.DW / g.SW;
    q0 = g.PW / g.SW;                       // first phase index an input column maps to
    QN = (g.PW + g.W - 1) / g.SW - q0 + 1;  // phase indices covering the input columns
    QNr = round_up(QN);
    RL = q0 + QNr + L;
  }
  size_t floats(const ConvGeom& g, int m) const { return size_t(m) * g.OH * RL + size_t(g.SW) * QNr; }
};

template <int TB>
void wgrad_block(const InputRows& in, const float* xbuf, const float* zero, const ConvGeom& g, const float* dyp,
                 int t0, float* dw) {
  vf acc[TB];
  for (int t = 0; t < TB; ++t) acc[t] = vf{};
  int ki[TB], off[TB];
  for (int t = 0; t < TB; ++t) ki[t] = (t0 + t) / g.KW, off[t] = in.col(g, (t0 + t) % g.KW);
  for (int oh = 0; oh < g.OH; ++oh) {
    const float* s[TB];
    for (int t = 0; t < TB; ++t) {
      const float* r = in.row(xbuf, g, oh * g.SH + ki[t] * g.DH);
      s[t] = (r ? r : zero) + off[t];
    }
    const float* d = dyp + int64_t(oh) * in.OWr;
    for (int i = 0; i < in.OWr; i += VW) {
      const vf dv = ld(d + i);
      for (int t = 0; t < TB; ++t) acc[t] += dv * ld(s[t] + i);
    }
  }
  for (int t = 0; t < TB; ++t) dw[t0 + t] += hsum(acc[t]);
}


// ---- The 3x3 path without copies (AVX-512; AVX2 forward only, below): 3x3 kernels, dilation 1,
// equal strides of 1 or 2, symmetric padding <= 2 (MobileNet's depthwise layers). Masked loads
// read straight from the planes (masked lanes never fault): no padded buffers, no per-row tables,
// which matters most on the small planes (14x14, 7x7) where those dominated. AVX-512's loops run
// over 16-column strips outside and rows inside, so each strip's masks are computed once.
bool simd3x3_enabled = true;  // tests turn it off to check the general path on 3x3 too

[[maybe_unused]] bool use_simd3x3(const ConvGeom& g) {
  return simd3x3_enabled && g.KH == 3 && g.KW == 3 && g.DH == 1 && g.DW == 1 && g.SH == g.SW && g.SW <= 2 &&
         g.PH == g.PW && g.PH <= 2 && g.PH_end == g.PH && g.PW_end == g.PW;
}

#if defined(__AVX512F__)
bool simd3x3_forward_fits(const ConvGeom& g) { return use_simd3x3(g); }

// Lanes l with 0 <= start + l < n.
inline __mmask16 range_mask(int start, int n) {
  const int lo = std::clamp(-start, 0, 16), hi = std::clamp(n - start, 0, 16);
  return hi > lo ? __mmask16(((1u << hi) - 1) & ~((1u << lo) - 1)) : __mmask16(0);
}

// Per strip of 16 outputs starting at column o0 and tap column c: the masks of the input
// columns the taps read (S 1: o0 - P + c + l; S 2: 2*o0 - P + c + l for l < 32, even lanes kept).
struct Strip {
  __mmask16 m[3], m2[3];
  int start[3];
  __mmask16 out;
  void set(int o0, int S, int P, int W, int OW) {
    for (int c = 0; c < 3; ++c) {
      start[c] = S * o0 - P + c;
      m[c] = range_mask(start[c], W);
      m2[c] = range_mask(start[c] + 16, W);
    }
    out = range_mask(o0, OW);
  }
  // The 16 inputs tap column c meets in row xr.
  __m512 taps(const float* xr, int c, int S, __m512i even) const {
    const __m512 a = _mm512_maskz_loadu_ps(m[c], xr + start[c]);
    if (S == 1) return a;
    return _mm512_permutex2var_ps(a, even, _mm512_maskz_loadu_ps(m2[c], xr + start[c] + 16));
  }
};

inline __m512i even_lanes() {
  return _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
}

// Output rows computed together by the 3x3 forward: independent FMA chains (one row's nine
// taps are a chain of nine dependent FMAs) and each input row's taps loaded once for the rows
// that use it. Measured (1 thread, MobileNet v1 b32, the 13 depthwise layers of
// cnn bench --layers, median of 6 alternating runs): 96.4 -> 83.6 ms.
constexpr int kDepthwiseRows = 4;

// Output rows [oh, oh + kDepthwiseRows) of columns [o0, o0 + 16) of simd3x3_forward_s: per row, the
// same FMAs in the same order.
template <int S>
inline void simd3x3_forward_rows(const float* x, int H, int W, const __m512* wv, __m512 bv, int P, float* y, int oh,
                                 int OW, int o0, const Strip& sp, __m512i even, bool accumulate) {
  constexpr int R = kDepthwiseRows, rows_in = (R - 1) * S + 3;
  __m512 acc[R];
#pragma GCC unroll 8
  for (int k = 0; k < R; ++k) acc[k] = accumulate ? _mm512_maskz_loadu_ps(sp.out, y + int64_t(oh + k) * OW + o0) : bv;
#pragma GCC unroll 16
  for (int r = 0; r < rows_in; ++r) {
    const int ih = oh * S - P + r;
    if (ih < 0 || ih >= H) continue;
    const float* xr = x + int64_t(ih) * W;
    const __m512 t0 = sp.taps(xr, 0, S, even), t1 = sp.taps(xr, 1, S, even), t2 = sp.taps(xr, 2, S, even);
#pragma GCC unroll 8
    for (int k = 0; k < R; ++k) {
      const int a = r - k * S;  // the kernel row this input row is for output row k
      if (a < 0 || a > 2) continue;
      acc[k] = _mm512_fmadd_ps(wv[3 * a], t0, acc[k]);
      acc[k] = _mm512_fmadd_ps(wv[3 * a + 1], t1, acc[k]);
      acc[k] = _mm512_fmadd_ps(wv[3 * a + 2], t2, acc[k]);
    }
  }
#pragma GCC unroll 8
  for (int k = 0; k < R; ++k) _mm512_mask_storeu_ps(y + int64_t(oh + k) * OW + o0, sp.out, acc[k]);
}

// y (OH x OW) = bias + x (H x W) correlated with w (3x3), or y += that when accumulate.
template <int S>
void simd3x3_forward_s(const float* x, int H, int W, const float* w, float b, int P, float* y, int OH, int OW,
                       bool accumulate) {
  __m512 wv[9];
  for (int t = 0; t < 9; ++t) wv[t] = _mm512_set1_ps(w[t]);
  const __m512 bv = _mm512_set1_ps(b);
  const __m512i even = even_lanes();
  Strip sp;
  for (int o0 = 0; o0 < OW; o0 += 16) {
    sp.set(o0, S, P, W, OW);
    int oh = 0;
    for (; oh + kDepthwiseRows <= OH; oh += kDepthwiseRows)
      simd3x3_forward_rows<S>(x, H, W, wv, bv, P, y, oh, OW, o0, sp, even, accumulate);
    for (; oh < OH; ++oh) {
      float* yr = y + int64_t(oh) * OW + o0;
      __m512 acc = accumulate ? _mm512_maskz_loadu_ps(sp.out, yr) : bv;
      for (int a = 0; a < 3; ++a) {
        const int ih = oh * S - P + a;
        if (ih < 0 || ih >= H) continue;
        const float* xr = x + int64_t(ih) * W;
        acc = _mm512_fmadd_ps(wv[3 * a], sp.taps(xr, 0, S, even), acc);
        acc = _mm512_fmadd_ps(wv[3 * a + 1], sp.taps(xr, 1, S, even), acc);
        acc = _mm512_fmadd_ps(wv[3 * a + 2], sp.taps(xr, 2, S, even), acc);
      }
      _mm512_mask_storeu_ps(yr, sp.out, acc);
    }
  }
}

void simd3x3_forward(const float* x, int H, int W, const float* w, float b, int S, int P, float* y, int OH, int OW,
                     bool accumulate = false) {
  if (S == 1) simd3x3_forward_s<1>(x, H, W, w, b, P, y, OH, OW, accumulate);
  else simd3x3_forward_s<2>(x, H, W, w, b, P, y, OH, OW, accumulate);
}

// dw (3x3) += sum over outputs of dy * the inputs each tap met. (Nine named accumulators: an
// array indexed in a loop ends up on the stack.)
template <int S>
void simd3x3_weight_s(const float* x, int H, int W, const float* dy, int P, int OH, int OW, float* dw) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0;
  const __m512i even = even_lanes();
  Strip sp;
  for (int o0 = 0; o0 < OW; o0 += 16) {
    sp.set(o0, S, P, W, OW);
    for (int oh = 0; oh < OH; ++oh) {
      const __m512 d = _mm512_maskz_loadu_ps(sp.out, dy + int64_t(oh) * OW + o0);
      const int ih = oh * S - P;
      if (ih >= 0 && ih < H) {
        const float* xr = x + int64_t(ih) * W;
        a0 = _mm512_fmadd_ps(d, sp.taps(xr, 0, S, even), a0);
        a1 = _mm512_fmadd_ps(d, sp.taps(xr, 1, S, even), a1);
        a2 = _mm512_fmadd_ps(d, sp.taps(xr, 2, S, even), a2);
      }
      if (ih + 1 >= 0 && ih + 1 < H) {
        const float* xr = x + int64_t(ih + 1) * W;
        a3 = _mm512_fmadd_ps(d, sp.taps(xr, 0, S, even), a3);
        a4 = _mm512_fmadd_ps(d, sp.taps(xr, 1, S, even), a4);
        a5 = _mm512_fmadd_ps(d, sp.taps(xr, 2, S, even), a5);
      }
      if (ih + 2 >= 0 && ih + 2 < H) {
        const float* xr = x + int64_t(ih + 2) * W;
        a6 = _mm512_fmadd_ps(d, sp.taps(xr, 0, S, even), a6);
        a7 = _mm512_fmadd_ps(d, sp.taps(xr, 1, S, even), a7);
        a8 = _mm512_fmadd_ps(d, sp.taps(xr, 2, S, even), a8);
      }
    }
  }
  const __m512 acc[9] = {a0, a1, a2, a3, a4, a5, a6, a7, a8};
  for (int t = 0; t < 9; ++t) {  // (not _mm512_reduce_add_ps: GCC 12's header trips -Wuninitialized)
    float lanes[16];
    _mm512_storeu_ps(lanes, acc[t]);
    float sum = 0;
    for (float v : lanes) sum += v;
    dw[t] += sum;
  }
}

void simd3x3_weight(const float* x, int H, int W, const float* dy, int S, int P, int OH, int OW, float* dw) {
  if (S == 1) simd3x3_weight_s<1>(x, H, W, dy, P, OH, OW, dw);
  else simd3x3_weight_s<2>(x, H, W, dy, P, OH, OW, dw);
}

// Stride-2 input gradient: dx[ih][iw] (+)= sum w[a][c] dy[(ih+P-a)/2][(iw+P-c)/2] over the taps
// with both halves exact. Per strip and tap column, the dy values are spread onto the lanes of
// the right parity (a zero-masked permute).
void simd3x3_data_s2(const float* dy, int OH, int OW, const float* w, int P, float* dx, int H, int W,
                     bool accumulate) {
  __m512 wv[9];
  for (int t = 0; t < 9; ++t) wv[t] = _mm512_set1_ps(w[t]);
  const __m512i spread[2] = {_mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7),
                             _mm512_setr_epi32(0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8)};
  const __mmask16 parity[2] = {0x5555, 0xAAAA};  // lanes l with (l + r0) even
  for (int i0 = 0; i0 < W; i0 += 16) {
    int base[3], r0[3];
    __mmask16 m[3];
    for (int c = 0; c < 3; ++c) {
      const int t0 = i0 + P - c;
      base[c] = t0 >= 0 ? t0 / 2 : -((1 - t0) / 2);  // floor(t0 / 2)
      r0[c] = t0 - 2 * base[c];
      m[c] = range_mask(base[c], OW);
    }
    const __mmask16 out = range_mask(i0, W);
    for (int ih = 0; ih < H; ++ih) {
      float* dr = dx + int64_t(ih) * W + i0;
      __m512 acc = accumulate ? _mm512_maskz_loadu_ps(out, dr) : _mm512_setzero_ps();
      for (int a = 0; a < 3; ++a) {
        const int t = ih + P - a;
        if (t < 0 || (t & 1) || t / 2 >= OH) continue;
        const float* yr = dy + int64_t(t / 2) * OW;
        for (int c = 0; c < 3; ++c) {
          const __m512 v = _mm512_maskz_loadu_ps(m[c], yr + base[c]);
          acc = _mm512_fmadd_ps(wv[3 * a + c], _mm512_maskz_permutexvar_ps(parity[r0[c]], spread[r0[c]], v), acc);
        }
      }
      _mm512_mask_storeu_ps(dr, out, acc);
    }
  }
}
#elif defined(__AVX2__)
// The same copy-free 3x3 forward with AVX2 (8 columns per strip; backward keeps the general
// path). Strips whose taps all lie inside the row load plainly; edge strips use maskload
// (masked lanes never fault). Stores are never masked: AVX2's masked store is microcoded on AMD
// (see row_conv_simd.h), so a partial strip goes through a stack vector. The nine weights stay
// in registers (9 + 4 accumulators + 3 taps: all 16): broadcasting them from memory for every
// FMA made the loads the bottleneck (54 loads per 36 FMAs). Measured (session 11, Zen 3,
// depthwise_forward alone on MobileNet v1's shapes, 2 threads, interleaved with the general
// path, best of 9; ms at batch 32): 1024 channels 7x7 5.36 -> 3.02, 512 14x14 4.58 -> 3.07, 256
// 28x28 5.69 -> 4.13, stride 2 from 112 columns (64 channels) 13.6 -> 8.4 (batch 1 0.38 -> 0.13);
// at batch 1 7x7 0.094 -> 0.045, 56 wide 0.19 -> 0.15; stride 1 at 112 columns even (0.94-1.07x),
// so those keep the general path. Output rows per block: 4 beat 2 and 3.
constexpr int kDepthwiseRows = 4;
constexpr int kSimd3x3MaxWidthStride1Avx2 = 64;  // input columns
bool simd3x3_forward_fits(const ConvGeom& g) {
  return use_simd3x3(g) && (g.SW == 2 || g.W <= kSimd3x3MaxWidthStride1Avx2);
}

// Lanes l with 0 <= start + l < n, as maskload's sign-bit mask.
inline __m256i range_mask(int start, int n) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i col = _mm256_add_epi32(lane, _mm256_set1_epi32(start));
  const __m256i lo_ok = _mm256_cmpgt_epi32(col, _mm256_set1_epi32(-1));
  const __m256i hi_ok = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), col);
  return _mm256_and_si256(lo_ok, hi_ok);
}

// Per strip of 8 outputs from column o0: tap column c reads input columns S*o0 - P + c + S*l.
template <int S>
struct Strip8 {
  __m256i m[3], m2[3];
  int start[3];
  bool full = true;  // every tap's columns inside the row: plain loads
  void set(int o0, int P, int W) {
    for (int c = 0; c < 3; ++c) start[c] = S * o0 - P + c;
    full = start[0] >= 0 && start[2] + 8 * S <= W;
    if (full) return;  // the masks only for the edge strips
    for (int c = 0; c < 3; ++c) m[c] = range_mask(start[c], W), m2[c] = range_mask(start[c] + 8, W);
  }
  template <bool FULL>
  __m256 taps(const float* xr, int c) const {
    const float* p = xr + start[c];
    const __m256 a = FULL ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m[c]);
    if constexpr (S == 1) {
      return a;
    } else {  // even lanes of 16 columns: [a0 a2 b0 b2 | a4 a6 b4 b6] -> [a0 a2 a4 a6 b0 b2 b4 b6]
      const __m256 b = FULL ? _mm256_loadu_ps(p + 8) : _mm256_maskload_ps(p + 8, m2[c]);
      const __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
      return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
    }
  }
};

// Stores the first n (1..8) lanes of v at y.
inline void store_lanes(float* y, __m256 v, int n) {
  if (n == 8) return _mm256_storeu_ps(y, v);
  alignas(32) float t[8];
  _mm256_store_ps(t, v);
  std::memcpy(y, t, sizeof(float) * size_t(n));
}

// Output rows [oh, oh + R) of the strip at o0 (n valid columns): per row the nine FMAs in the
// order of the AVX-512 kernel.
template <int S, int R, bool FULL>
inline void simd3x3_forward_rows8(const float* x, int H, int W, const __m256* wv, __m256 bv, int P, float* y, int oh,
                                  int OW, int o0, int n, const Strip8<S>& sp) {
  constexpr int rows_in = (R - 1) * S + 3;
  __m256 acc[R];
#pragma GCC unroll 8
  for (int k = 0; k < R; ++k) acc[k] = bv;
#pragma GCC unroll 16
  for (int r = 0; r < rows_in; ++r) {
    const int ih = oh * S - P + r;
    if (ih < 0 || ih >= H) continue;
    const float* xr = x + int64_t(ih) * W;
    const __m256 t0 = sp.template taps<FULL>(xr, 0), t1 = sp.template taps<FULL>(xr, 1);
    const __m256 t2 = sp.template taps<FULL>(xr, 2);
#pragma GCC unroll 8
    for (int k = 0; k < R; ++k) {
      const int a = r - k * S;
      if (a < 0 || a > 2) continue;
      acc[k] = _mm256_fmadd_ps(wv[3 * a], t0, acc[k]);
      acc[k] = _mm256_fmadd_ps(wv[3 * a + 1], t1, acc[k]);
      acc[k] = _mm256_fmadd_ps(wv[3 * a + 2], t2, acc[k]);
    }
  }
#pragma GCC unroll 8
  for (int k = 0; k < R; ++k) store_lanes(y + int64_t(oh + k) * OW + o0, acc[k], n);
}

// Row blocks outside, strips inside: the input rows are read in order. (Strips outside, as the
// AVX-512 kernel does, read a 112-wide plane 8 columns at a time from memory: MobileNet's first
// depthwise layer at batch 32 ran at half the speed of the general path.)
template <int S>
void simd3x3_forward_s(const float* x, int H, int W, const float* w, float b, int P, float* y, int OH, int OW) {
  Strip8<S> sp;
  __m256 wv[9];
  for (int t = 0; t < 9; ++t) wv[t] = _mm256_set1_ps(w[t]);
  const __m256 bv = _mm256_set1_ps(b);
  auto strips = [&]<int R>(int oh) {
    for (int o0 = 0; o0 < OW; o0 += 8) {
      sp.set(o0, P, W);
      const int n = std::min(8, OW - o0);
      if (sp.full) simd3x3_forward_rows8<S, R, true>(x, H, W, wv, bv, P, y, oh, OW, o0, n, sp);
      else simd3x3_forward_rows8<S, R, false>(x, H, W, wv, bv, P, y, oh, OW, o0, n, sp);
    }
  };
  int oh = 0;
  for (; oh + kDepthwiseRows <= OH; oh += kDepthwiseRows) strips.template operator()<kDepthwiseRows>(oh);
  for (; oh < OH; ++oh) strips.template operator()<1>(oh);
}

void simd3x3_forward(const float* x, int H, int W, const float* w, float b, int S, int P, float* y, int OH, int OW) {
  if (S == 1) simd3x3_forward_s<1>(x, H, W, w, b, P, y, OH, OW);
  else simd3x3_forward_s<2>(x, H, W, w, b, P, y, OH, OW);
}
#endif
}  // namespace

void depthwise_set_simd3x3(bool on) { simd3x3_enabled = on; }

size_t depthwise_workspace_floats(const ConvGeom& g, int m) {
  const InputRows in(g);
  const GradRows gr(g);
  return std::max(in.floats() + size_t(g.OH) * in.OWr, gr.floats(g, m)) + VW;
}

void depthwise_forward_plane(const float* x, const float* w, const float* bias, const ConvGeom& g, int m, float* y,
                             float* ws) {
  if (g.OH <= 0 || g.OW <= 0) return;
#if defined(__AVX512F__) || defined(__AVX2__)
  if (simd3x3_forward_fits(g)) {
    for (int j = 0; j < m; ++j)
      simd3x3_forward(x, g.H, g.W, w + 9 * j, bias ? bias[j] : 0.f, g.SW, g.PW, y + int64_t(j) * g.OH * g.OW, g.OH,
                      g.OW);
    return;
  }
#endif
  const InputRows in(g);
  in.build(x, g, ws);
  const int KK = g.KH * g.KW;
  Taps& tp = tl_taps;
  tp.reserve(size_t(KK), size_t(g.KW));
  int* coff = tp.a.data();
  for (int kj = 0; kj < g.KW; ++kj) coff[kj] = in.col(g, kj);
  for (int j = 0; j < m; ++j) {
    const float* wj = w + j * KK;
    const float b = bias ? bias[j] : 0.f;
    for (int oh = 0; oh < g.OH; ++oh) {
      if (g.KH == 3 && g.KW == 3 && in.row(ws, g, oh * g.SH) && in.row(ws, g, oh * g.SH + 2 * g.DH)) {
        int e = oh + 1;  // the run of rows with all three kernel rows inside the image
        while (e < g.OH && in.row(ws, g, e * g.SH + 2 * g.DH)) ++e;
        const float* base[3] = {in.row(ws, g, oh * g.SH), in.row(ws, g, oh * g.SH + g.DH),
                                in.row(ws, g, oh * g.SH + 2 * g.DH)};
        run_rows3x3(base, int64_t(g.SH) * in.RL, coff, wj, b, g.OW, y + int64_t(j) * g.OH * g.OW, g.OH, oh, e);
        oh = e - 1;
        continue;
      }
      int nt = 0;
      for (int ki = 0; ki < g.KH; ++ki) {
        const float* r = in.row(ws, g, oh * g.SH + ki * g.DH);
        if (!r) continue;
        for (int kj = 0; kj < g.KW; ++kj) {
          tp.w[size_t(nt)] = wj[ki * g.KW + kj];
          tp.src[size_t(nt++)] = r + coff[kj];
        }
      }
      // Whole vectors may overhang into the rows below, written afterwards; not past the plane.
      run_taps(nt, tp.w.data(), tp.src.data(), b, g.OW, y + (int64_t(j) * g.OH + oh) * g.OW,
               (oh + 1) * g.OW + VW - 1 <= g.OH * g.OW);
    }
  }
}

void depthwise_backward_data_plane(const float* dy, const float* w, const ConvGeom& g, int m, float* dx, float* ws) {
#if defined(__AVX512F__)
  if (use_simd3x3(g)) {
    for (int j = 0; j < m; ++j) {
      const float* dyj = dy + int64_t(j) * g.OH * g.OW;
      if (g.SW == 2) {
        simd3x3_data_s2(dyj, g.OH, g.OW, w + 9 * j, g.PW, dx, g.H, g.W, j > 0);
      } else {  // a stride-1 correlation of dy with the flipped kernel, padding 2 - P
        float f[9];
        for (int t = 0; t < 9; ++t) f[t] = w[9 * j + 8 - t];
        simd3x3_forward(dyj, g.OH, g.OW, f, 0.f, 1, 2 - g.PW, dx, g.H, g.W, j > 0);
      }
    }
    return;
  }
#endif
  const GradRows gr(g);
  // Padded dy rows.
  const int ncopy = std::min(g.OW, gr.RL - gr.L);
  for (int64_t r = 0; r < int64_t(m) * g.OH; ++r) {
    float* d = ws + r * gr.RL;
    std::fill(d, d + gr.L, 0.f);
    std::memcpy(d + gr.L, dy + r * g.OW, sizeof(float) * size_t(std::max(ncopy, 0)));
    std::fill(d + gr.L + std::max(ncopy, 0), d + gr.RL, 0.f);
  }
  float* tmp = ws + int64_t(m) * g.OH * gr.RL;
  const int KK = g.KH * g.KW;
  Taps& tp = tl_taps;
  tp.reserve(size_t(KK) * size_t(m), size_t(std::max(g.KW, g.KH) + g.SW + 1));
  // Kernel columns by phase: kjs[pb[p] .. pb[p+1]) have (kj*DW) % SW == p, reading at kjo.
  int *kjs = tp.a.data(), *kjo = tp.b.data(), *pb = tp.c.data();
  {
    int n = 0;
    for (int p = 0; p < g.SW; ++p) {
      pb[p] = n;
      for (int kj = 0; kj < g.KW; ++kj)
        if (kj * g.DW % g.SW == p) kjs[n] = kj, kjo[n++] = gr.L - kj * g.DW / g.SW + gr.q0;
    }
    pb[g.SW] = n;
  }
  int kis[64], ohs[64];  // kernel rows (and their output row) that reach an input row
  std::vector<int> big_ki, big_oh;
  int *kir = kis, *ohr = ohs;
  if (g.KH > 64) big_ki.resize(size_t(g.KH)), big_oh.resize(size_t(g.KH)), kir = big_ki.data(), ohr = big_oh.data();
  for (int ih = 0; ih < g.H; ++ih) {
    const int r = ih + g.PH;
    float* dxr = dx + int64_t(ih) * g.W;
    if (m == 1 && g.KH == 3 && g.KW == 3 && g.SH == 1 && g.SW == 1 && r - 2 * g.DH >= 0 && r < g.OH) {
      int e = ih + 1;  // the run of rows every kernel row reaches
      while (e < g.H && e + g.PH < g.OH) ++e;
      const float* base[3];
      for (int a = 0; a < 3; ++a) base[a] = ws + int64_t(r - a * g.DH) * gr.RL;
      run_rows3x3(base, gr.RL, kjo, w, 0.f, g.W, dx, g.H, ih, e);
      ih = e - 1;
      continue;
    }
    int nk = 0;
    for (int ki = 0; ki < g.KH; ++ki) {
      const int t = r - ki * g.DH;
      int oh;
      if (t < 0) break;
      if (exact_div(t, g.SH, oh) && oh < g.OH) kir[nk] = ki, ohr[nk++] = oh;
    }
    for (int p = 0; p < g.SW; ++p) {
      int nt = 0;
      for (int k = 0; k < nk; ++k)
        for (int e = pb[p]; e < pb[p + 1]; ++e)
          for (int j = 0; j < m; ++j) {
            tp.w[size_t(nt)] = w[j * KK + kir[k] * g.KW + kjs[e]];
            tp.src[size_t(nt++)] = ws + (int64_t(j) * g.OH + ohr[k]) * gr.RL + kjo[e];
          }
      if (g.SW == 1) {
        run_taps(nt, tp.w.data(), tp.src.data(), 0.f, g.W, dxr, (ih + 1) * g.W + VW - 1 <= g.H * g.W);
      } else {
        run_taps(nt, tp.w.data(), tp.src.data(), 0.f, gr.QN, tmp + p * gr.QNr, true);
        if (g.SW == 2) continue;
        // Scatter phase p back to its input columns: iw + PW == p (mod SW).
        const int iw0 = ((p - g.PW) % g.SW + g.SW) % g.SW;
        const float* tq = tmp + p * gr.QNr + (iw0 + g.PW) / g.SW - gr.q0;
        for (int iw = iw0, q = 0; iw < g.W; iw += g.SW, ++q) dxr[iw] = tq[q];
      }
    }
    if (g.SW == 2) {  // interleave the two phases: dx[2k] = a[k], dx[2k+1] = b[k]
      const bool odd = g.PW % 2;
      const float* a = tmp + (odd ? gr.QNr : 0);
      const float* b = odd ? tmp + 1 : tmp + gr.QNr;
      for (int k = 0; k < g.W / 2; ++k) dxr[2 * k] = a[k], dxr[2 * k + 1] = b[k];
      if (g.W % 2) dxr[g.W - 1] = a[g.W / 2];
    }
  }
}

void depthwise_backward_weight_plane(const float* x, const float* dy, const ConvGeom& g, int m, float* dw,
                                     float* ws) {
  if (g.OH <= 0 || g.OW <= 0) return;
#if defined(__AVX512F__)
  if (use_simd3x3(g)) {
    for (int j = 0; j < m; ++j)
      simd3x3_weight(x, g.H, g.W, dy + int64_t(j) * g.OH * g.OW, g.SW, g.PW, g.OH, g.OW, dw + 9 * j);
    return;
  }
#endif
  const InputRows in(g);
  const float* zero = in.build(x, g, ws);
  float* dyp = ws + in.floats();
  const int KK = g.KH * g.KW;
  for (int j = 0; j < m; ++j) {
    const float* dyj = dy + int64_t(j) * g.OH * g.OW;
    for (int oh = 0; oh < g.OH; ++oh) {
      float* d = dyp + int64_t(oh) * in.OWr;
      std::memcpy(d, dyj + int64_t(oh) * g.OW, sizeof(float) * size_t(g.OW));
      std::fill(d + g.OW, d + in.OWr, 0.f);
    }
    float* dwj = dw + j * KK;
    for (int t0 = 0; t0 < KK; t0 += 9) {
      switch (std::min(9, KK - t0)) {
        case 1: wgrad_block<1>(in, ws, zero, g, dyp, t0, dwj); break;
        case 2: wgrad_block<2>(in, ws, zero, g, dyp, t0, dwj); break;
        case 3: wgrad_block<3>(in, ws, zero, g, dyp, t0, dwj); break;
        case 4: wgrad_block<4>(in, ws, zero, g, dyp, t0, dwj); break;
        case 5: wgrad_block<5>(in, ws, zero, g, dyp, t0, dwj); break;
        case 6: wgrad_block<6>(in, ws, zero, g, dyp, t0, dwj); break;
        case 7: wgrad_block<7>(in, ws, zero, g, dyp, t0, dwj); break;
        case 8: wgrad_block<8>(in, ws, zero, g, dyp, t0, dwj); break;
        default: wgrad_block<9>(in, ws, zero, g, dyp, t0, dwj); break;
      }
    }
  }
}

void depthwise_forward(const float* x, const float* w, const float* bias, const ConvGeom& g, int64_t N, int C, int m,
                       float* y, const OutputEpilogue& epilogue) {
  const int64_t in_plane = int64_t(g.H) * g.W, out_plane = int64_t(g.OH) * g.OW, KK = int64_t(g.KH) * g.KW;
  const size_t wsz = CNN_DEPTHWISE_NS::depthwise_workspace_floats(g, m);
  parallel_for(N * C, [&](int64_t b, int64_t e, int tid) {
    float* ws = scratch(tid, 0, wsz);
    for (int64_t p = b; p < e; ++p) {
      const int64_t c = p % C;
      CNN_DEPTHWISE_NS::depthwise_forward_plane(x + p * in_plane, w + c * m * KK, bias ? bias + c * m : nullptr, g, m,
                              y + p * m * out_plane, ws);
      const OutputEpilogue& f = epilogue;
      if (!f.empty())  // while the planes are in cache
        add_and_clamp_impl(y + p * m * out_plane, f.residual ? f.residual + p * m * out_plane : nullptr, m * out_plane,
                      f.clamp, f.lo, f.hi);
    }
  });
}

void depthwise_backward(const float* x, const float* dy, const float* w, const ConvGeom& g, int64_t N, int C, int m,
                        float* dx, float* dw) {
  const int64_t in_plane = int64_t(g.H) * g.W, out_plane = int64_t(g.OH) * g.OW, KK = int64_t(g.KH) * g.KW;
  const int64_t wsize = int64_t(C) * m * KK;
  const size_t wsz = CNN_DEPTHWISE_NS::depthwise_workspace_floats(g, m);
  const int chunks = static_cast<int>(std::min<int64_t>(N * C, num_threads()));
  parallel_for(N * C, [&](int64_t b, int64_t e, int tid) {
    float* ws = scratch(tid, 0, wsz);
    // Thread 0 accumulates straight into dw; the others into partials reduced below.
    float* dwp = !dw ? nullptr : tid == 0 ? dw : scratch(tid, 1, size_t(wsize));
    if (tid != 0 && dwp) std::memset(dwp, 0, sizeof(float) * size_t(wsize));
    for (int64_t p = b; p < e; ++p) {
      const int64_t c = p % C;
      const float* dyp = dy + p * m * out_plane;
      if (dwp) CNN_DEPTHWISE_NS::depthwise_backward_weight_plane(x + p * in_plane, dyp, g, m, dwp + c * m * KK, ws);
      if (dx) CNN_DEPTHWISE_NS::depthwise_backward_data_plane(dyp, w + c * m * KK, g, m, dx + p * in_plane, ws);
    }
  });
  for (int t = 1; t < chunks && dw; ++t) {
    const float* part = scratch(t, 1, size_t(wsize));
    for (int64_t i = 0; i < wsize; ++i) dw[i] += part[i];
  }
}

}  // namespace cnn::CNN_DEPTHWISE_NS
