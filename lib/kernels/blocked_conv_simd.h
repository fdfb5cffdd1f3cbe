#pragma once
// The blocked-convolution micro-kernel (blocked_conv.h), written once over a SIMD traits type V
// (simd_avx2.h, simd_avx512.h) and compiled per ISA: a register tile of P output pixels x B
// output blocks; per (input channel, tap), B weight vectors and P broadcast inputs.
#include <algorithm>
#include <cstdint>
#include <utility>

#include "kernels/blocked_conv.h"
#include "kernels/blocked_depthwise.h"
#include "kernels/simd_avx2.h"  // transpose8x8: AVX-512 files have AVX2 too

namespace cnn::blocked_conv_simd {

// One (input channel, tap) step: B weight vectors against P broadcast inputs, pixel p's at
// pixel(p) + at.
template <class V, int P, int B, class Pixel>
[[gnu::always_inline]] inline void fma_tile(typename V::reg (&acc)[P][B], Pixel pixel, int64_t at, const float* w) {
  constexpr int L = V::kLanes;
  typename V::reg wv[B];
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) wv[b] = V::load(w + b * L);
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p) {
    const typename V::reg x = V::bcast(pixel(p) + at);
#pragma GCC unroll 4
    for (int b = 0; b < B; ++b) acc[p][b] = V::fma(wv[b], x, acc[p][b]);
  }
}

// Every tap and used lane of one input block of XL lanes; returns the next block's weights.
template <class V, int P, int B, int XL, class Pixel>
[[gnu::always_inline]] inline const float* block_taps(typename V::reg (&acc)[P][B], const BlockedConvArgs& a,
                                                      int lanes, Pixel pixel, const float* w) {
  constexpr int L = V::kLanes;
  for (int t = 0; t < a.T; ++t, w += XL * B * L) {
    const int64_t at = a.tap[t];
    if constexpr (XL == 1) {
      fma_tile<V, P, B>(acc, pixel, at, w);
      continue;
    }
    if (lanes < XL) {  // the input channels past C are zeros: skipped
      for (int l = 0; l < lanes; ++l) fma_tile<V, P, B>(acc, pixel, at + l, w + l * B * L);
      continue;
    }
#pragma GCC unroll 2
    for (int l = 0; l < XL; l += 2) {
      fma_tile<V, P, B>(acc, pixel, at + l, w + l * B * L);
      fma_tile<V, P, B>(acc, pixel, at + l + 1, w + (l + 1) * B * L);
    }
  }
  return w;
}

// Never inlined, like the row kernels' tiles: the register allocation of the whole tile is
// GCC's to see at once (an always_inline step over an accumulator array: 94 GFLOP/s in the
// prototype; the same loops with the accumulators indexed in the tap loop spilled them, 34).
// The P windows as P / Q segments of Q windows whose origins step by kStep pixels (a stride-kStep
// run along one output row): one pointer per segment, constant displacements within it (Q = 1:
// a pointer per pixel, any windows). P pointers of their own do not fit the general registers
// (session 18, Zen 5, `perf annotate`: the 16-pixel tile reloaded spilled pointers from vector
// registers before most of its FMAs).
// XL: the input's lanes per block: V::kLanes, or 1 for input channels as planes of their own
// (forward_planes).
template <class V, int P, int B, int Q = 1, int kStep = 1, int XL = V::kLanes>
[[gnu::noinline]] void tile(const BlockedConvArgs& a, int64_t i) {
  static_assert(P % Q == 0);
  constexpr int L = V::kLanes, S = P / Q;
  typename V::reg acc[P][B];
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int b = 0; b < B; ++b) acc[p][b] = V::zero();
  // The residual's lines, read only after the sums: fetched now, they arrive during them. Session
  // 20 (Zen 5, ResNet-50 b32, `--layers`, 4 alternating runs): layer1's shortcut 14.8 -> 13.8 ms
  // and residual 1x1 convolutions 13.6 -> 12.2 (their residuals come from memory); prefetching the
  // output lines as well gained nothing more.
  if (a.res && a.res_lane == 1)
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
      for (int b = 0; b < B; ++b)
        if (b < a.y_blocks) __builtin_prefetch(a.res + b * a.res_block + (a.res_pix ? a.res_pix[i + p] : i + p));

  const float* w = a.w;
  for (int cb = 0; cb < a.CB; ++cb) {
    const float* xc = a.x + cb * a.x_block;
    const int lanes = cb + 1 < a.CB || a.last_lanes == 0 ? XL : a.last_lanes;
    const float* xs[S];
#pragma GCC unroll 16
    for (int s = 0; s < S; ++s) xs[s] = xc + a.x_pix[i + s * Q];
    if (a.prefetch && !a.prefetch_taps)
#pragma GCC unroll 16
      for (int p = 0; p < P; ++p) __builtin_prefetch(xs[p / Q] + (p % Q) * kStep * XL + a.prefetch);
    if (a.prefetch_taps)
      for (int t = 0; t < a.T; ++t)
#pragma GCC unroll 16
        for (int p = 0; p < P; ++p) __builtin_prefetch(xs[p / Q] + (p % Q) * kStep * XL + a.tap[t] + a.prefetch);
    w = block_taps<V, P, B, XL>(acc, a, lanes, [&xs](int p) { return xs[p / Q] + (p % Q) * kStep * XL; }, w);
  }
  if (!a.y_pix) {
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
      for (int b = 0; b < B; ++b) V::store(a.y + b * a.y_block + (i + p) * L, acc[p][b]);
    return;
  }
  const int blocks = std::min(B, a.y_blocks);
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int b = 0; b < B; ++b) {
      if (b >= blocks) continue;
      typename V::reg r = acc[p][b];
      if (a.bias) r = V::add(r, V::load(a.bias + b * L));
      if (a.res) {
        const float* q = a.res + b * a.res_block + (a.res_pix ? a.res_pix[i + p] : i + p);
        r = V::add(r, a.res_lane == 1 ? V::load(q) : V::gather(q, a.res_lane, a.res_channels - b * L));
      }
      if (a.clamp) r = V::min(V::max(r, V::set1(a.lo)), V::set1(a.hi));
      V::store(a.y + b * a.y_block + a.y_pix[i + p], r);
    }
}

// The tail of a pixel range: a tile of R < P pixels.
template <class V, int B, int XL, int... R>
void tail(const BlockedConvArgs& a, int64_t i, int rest, std::integer_sequence<int, R...>) {
  ((rest == R + 1 ? tile<V, R + 1, B, 1, 1, XL>(a, i) : void()), ...);
}

// The segment length Q (P, 4, 2 or 1) and step (1 or 2 pixels) of the windows of pixels
// [i, i + P) (tile's): the largest Q such that each run of Q origins steps by one step.
template <int L>
inline std::pair<int, int> tile_segments(const int64_t* o, int P) {
  const int64_t d = o[1] - o[0];
  if (d != L && d != 2 * L) return {1, 1};
  int breaks = 0;  // where the run breaks: 1 at an odd pixel, 2 at p % 4 == 2, 4 at p % 4 == 0
  for (int p = 1; p < P; ++p)
    if (o[p] - o[p - 1] != d) breaks |= p % 4 ? (p % 2 ? 1 : 2) : 4;
  int q = breaks == 0 ? P : breaks & 1 ? 1 : breaks & 2 ? 2 : 4;
  while (P % q) q /= 2;
  return {q, int(d / L)};
}

// The tile of pixels [i, i + P) by the shape of its windows (tile_segments).
template <class V, int P, int B, int XL>
void segmented_tile(const BlockedConvArgs& a, int64_t i) {
  const auto [q, step] = tile_segments<XL>(a.x_pix + i, P);
  if (step == 1) {
    if (q == P) return tile<V, P, B, P, 1, XL>(a, i);
    if constexpr (P % 4 == 0) if (q == 4) return tile<V, P, B, 4, 1, XL>(a, i);
    if constexpr (P % 2 == 0) if (q == 2) return tile<V, P, B, 2, 1, XL>(a, i);
  } else {
    if (q == P) return tile<V, P, B, P, 2, XL>(a, i);
    if constexpr (P % 4 == 0) if (q == 4) return tile<V, P, B, 4, 2, XL>(a, i);
    if constexpr (P % 2 == 0) if (q == 2) return tile<V, P, B, 2, 2, XL>(a, i);
  }
  tile<V, P, B, 1, 1, XL>(a, i);
}

template <class V, int P, int B, int XL = V::kLanes>
void forward(const BlockedConvArgs& a, int64_t i0, int64_t i1) {
  int64_t i = i0;
  for (; i + P <= i1; i += P) segmented_tile<V, P, B, XL>(a, i);
  if (i < i1) tail<V, B, XL>(a, i, static_cast<int>(i1 - i), std::make_integer_sequence<int, P - 1>{});
}

// The weight gradient's tile: MT output channels (broadcasts of dy) x CV input blocks (vectors of
// x) at one tap, summed over pixels [i0, i1) in registers and added to dwt once. Never inlined,
// as the forward tile. kOneBlock: the MT channels lie in one block (m0 % L + MT <= L), so their dy
// values are MT consecutive floats of a pixel, broadcast from one pointer at fixed offsets (the
// general tile keeps one offset per channel in a general register, which bounds MT at 6).
// TT > 1: TT taps at once (t, t + 1, ...; CV == 1): per pixel, TT input vectors against the same
// MT broadcasts of dy.
template <class V, int MT, int CV, bool kOneBlock = false, int TT = 1>
[[gnu::noinline]] void wgrad_tile(const BlockedWgradArgs& a, int t, int cb0, int m0, int64_t i0, int64_t i1,
                                  float* dwt) {
  static_assert(TT == 1 || CV == 1);
  constexpr int L = V::kLanes, XV = TT * CV;
  int64_t doff[MT];
#pragma GCC unroll 16
  for (int k = 0; k < MT; ++k) doff[k] = ((m0 + k) / L) * a.dy_block + (m0 + k) % L;
  int64_t xoff[XV];  // input vector j's offset from the first tap's window
#pragma GCC unroll 4
  for (int j = 0; j < XV; ++j) xoff[j] = TT > 1 ? a.tap[t + j] - a.tap[t] : j * a.x_block;
  const float* x = a.x + cb0 * a.x_block + a.tap[t];
  const int64_t CBL = int64_t(a.CB) * L, tap_out = int64_t(a.M) * CBL;
  float* const out = dwt + (int64_t(t) * a.M + m0) * CBL + cb0 * L;
  // dwt's value for channel k and input vector j (a block of the first tap, or tap t + j)
  auto at = [&](int k, int j) { return out + k * CBL + (TT > 1 ? j * tap_out : j * L); };
  // The partial is M x C x T floats per thread (9.4 MB at 512 channels): fetched now, its lines are
  // in cache when the sums are added (without: ResNet-18's 4x4 layers waited for memory at the end
  // of every tile).
#pragma GCC unroll 16
  for (int k = 0; k < MT; ++k)
#pragma GCC unroll 4
    for (int j = 0; j < (TT > 1 ? TT : 1); ++j) __builtin_prefetch(at(k, j), 1, 3);
  typename V::reg acc[MT][XV];
#pragma GCC unroll 16
  for (int k = 0; k < MT; ++k)
#pragma GCC unroll 4
    for (int v = 0; v < XV; ++v) acc[k][v] = V::zero();
  // A row of output pixels at a time: along it the window origins step by x_step and dy by one
  // pixel, so the loop carries two pointers instead of reading both tables per pixel.
  const int64_t first_end = std::min(i1, (i0 / a.OW + 1) * a.OW);  // one division per tile
  for (int64_t n = 0; n < a.images; ++n) {
    for (int64_t i = i0, e = first_end; i < i1; i = e, e = std::min(i1, e + a.OW)) {
      const float* xq = x + n * a.x_image + a.x_pix[i];
      const float* dq = a.dy + n * a.dy_image + a.dy_pix[i] + (kOneBlock ? doff[0] : 0);
      for (int64_t r = e - i; r > 0; --r, xq += a.x_step, dq += L) {
        typename V::reg xv[XV];
#pragma GCC unroll 4
        for (int v = 0; v < XV; ++v) xv[v] = V::load(xq + xoff[v]);
#pragma GCC unroll 16
        for (int k = 0; k < MT; ++k) {
          const typename V::reg d = V::bcast(kOneBlock ? dq + k : dq + doff[k]);
#pragma GCC unroll 4
          for (int v = 0; v < XV; ++v) acc[k][v] = V::fma(d, xv[v], acc[k][v]);
        }
      }
    }
  }
#pragma GCC unroll 16
  for (int k = 0; k < MT; ++k)
#pragma GCC unroll 4
    for (int v = 0; v < XV; ++v) {
      float* q = at(k, v);
      V::store(q, V::add(V::load(q), acc[k][v]));
    }
}

template <class V, int CV, int... R>
void wgrad_m_tail(const BlockedWgradArgs& a, int t, int cb0, int m0, int64_t i0, int64_t i1, float* dwt, int rest,
                  std::integer_sequence<int, R...>) {
  ((rest == R + 1 ? wgrad_tile<V, R + 1, CV>(a, t, cb0, m0, i0, i1, dwt) : void()), ...);
}

// Output channels [m0, m1) at one tap and input blocks [cb0, cb0 + CV).
template <class V, int MT, int CV>
void wgrad_channels(const BlockedWgradArgs& a, int t, int cb0, int m0, int m1, int64_t i0, int64_t i1, float* dwt) {
  for (; m0 + MT <= m1; m0 += MT) wgrad_tile<V, MT, CV, V::kLanes % MT == 0>(a, t, cb0, m0, i0, i1, dwt);
  if (m0 < m1) wgrad_m_tail<V, CV>(a, t, cb0, m0, i0, i1, dwt, m1 - m0, std::make_integer_sequence<int, MT - 1>{});
}

// Output channels [m0, m0 + count) of one block (count <= L) against input block cb, at one tap.
template <class V, int... R>
void wgrad_block(const BlockedWgradArgs& a, int t, int cb, int m0, int64_t i0, int64_t i1, float* dwt, int count,
                 std::integer_sequence<int, R...>) {
  ((count == R + 1 ? wgrad_tile<V, R + 1, 1, true>(a, t, cb, m0, i0, i1, dwt) : void()), ...);
}

// f(run, p0, p1) for runs of about kWgradRunPixels of a's (image, pixel) pairs: whole images of
// small maps, equal parts of an image's pixels [i0, i1) otherwise. A run's inputs and output
// gradient stay in L1 while its group's tiles read them at every tap; each tile then adds its
// sums to dwt once per run instead of once per call. Session 26 (Intel Xeon, AVX-512, the kernel
// alone on 2 threads, 60 alternating repetitions, as a share of the FMA peak measured between
// them, two rounds): ResNet-18-CIFAR's shapes with the images the pipelined backward gives each
// thread, 64 @32x32 (1 image) 72-75% -> 77-78%, 128 @16x16 (2) 75-76% -> 78-79%, 256 @8x8 (4)
// 77-80% -> 77-81%, 512 @4x4 (16) 70-74% -> 72-73%; with 16 images, whose inputs leave L2,
// 128 @16x16 50-68% -> 77-83%.
template <class F>
void for_each_pixel_run(const BlockedWgradArgs& a, int64_t i0, int64_t i1, F f) {
  constexpr int64_t kWgradRunPixels = 64;
  const int64_t P = i1 - i0, images = std::max<int64_t>(1, kWgradRunPixels / std::max<int64_t>(P, 1));
  const int64_t parts = images > 1 ? 1 : (P + kWgradRunPixels - 1) / kWgradRunPixels;
  for (int64_t n0 = 0; n0 < a.images; n0 += images) {
    BlockedWgradArgs run = a;
    run.x = a.x + n0 * a.x_image, run.dy = a.dy + n0 * a.dy_image, run.images = std::min(images, a.images - n0);
    for (int64_t k = 0; k < parts; ++k) f(run, i0 + P * k / parts, i0 + P * (k + 1) / parts);
  }
}

// Output channels in groups of kGroupTiles tiles, so that a group's output gradient and a pair of
// input blocks stay in L2 while every tap sweeps them (with all output channels per pass,
// ResNet-18's 512-channel 4x4 layers re-read the output gradient of every channel from L3 for
// each input block and tap: 41 GFLOP/s on one thread). The input blocks past the last CV (all of
// them when CB < CV: 16 and 32 channels with AVX-512's 4 blocks) go one at a time against a whole
// block of output channels (L accumulators); as MT x 1 tiles, AVX-512 ResNet-20 spent 12% of its
// training step in them (6 accumulators: 7 loads per 6 FMAs).
template <class V, int MT, int CV>
void wgrad(const BlockedWgradArgs& a, int64_t i0, int64_t i1, float* dwt) {
  constexpr int kGroupTiles = 4, L = V::kLanes;
  const int cb_whole = a.CB - a.CB % CV;
  for (int mg = 0; mg < a.M; mg += kGroupTiles * MT) {
    const int m1 = std::min(a.M, mg + kGroupTiles * MT);
    for (int cb = 0; cb < cb_whole; cb += CV)
      for_each_pixel_run(a, i0, i1, [&](const BlockedWgradArgs& run, int64_t p0, int64_t p1) {
        for (int t = 0; t < a.T; ++t) wgrad_channels<V, MT, CV>(run, t, cb, mg, m1, p0, p1, dwt);
      });
  }
  // Three taps at once when they come in threes (a 3x3 convolution's rows): 8 channels (AVX2: 4) x
  // 3 taps per tile read 11 vectors per 24 FMAs instead of 17 per 16. Measured (session 24, Zen 5,
  // ResNet-20 b128 training, timers per thread): the weight gradient of its 16-channel layers 14.1
  // -> 7.1-7.8 ms per step and thread (from 50% of the FMA peak), of its 32-channel ones 9.1 ->
  // 6.7-7.4; per layer (5 alternating runs of `--layers`) their backward 4.4-4.8 and 3.5-3.6 ms
  // against 4.8-5.4 and 4.2 before this and the pipelined passes (conv_direct.h).
  constexpr int kTapRun = 3, kTapChannels = L >= 16 ? 8 : 4;
  for (int cb = cb_whole; cb < a.CB; ++cb)
    for (int m0 = 0; m0 < a.M; m0 += L) {
      const int count = std::min(L, a.M - m0);
      if (a.T % kTapRun == 0 && count % kTapChannels == 0) {
        for (int m = m0; m < m0 + count; m += kTapChannels)
          for (int t = 0; t < a.T; t += kTapRun) wgrad_tile<V, kTapChannels, 1, true, kTapRun>(a, t, cb, m, i0, i1, dwt);
        continue;
      }
      for (int t = 0; t < a.T; ++t)
        wgrad_block<V>(a, t, cb, m0, i0, i1, dwt, count, std::make_integer_sequence<int, L>{});
    }
}

// Both directions move L pixels x L channels at a time through one L x L transpose (V::transpose);
// with 16 lanes the next 8 pixels go 8 x 8 (two AVX2 transposes), the last W % 8 one at a time.
// Missing channels read as zeros. Measured (session 17, Zen 5, ResNet-20 training at batch 128,
// `perf`): with only the 8 x 8 transposes at 16 lanes, pack_pixels and unpack_finish took 6% and
// 9% of the step.
// The packs read L rows at once, a plane's size apart (16 streams and, mapped backward, 16 more of
// x), which the hardware's prefetchers do not follow: each row is prefetched this many floats
// ahead. Measured (session 33, Zen 4, ResNet-20 b128 training, `perf` samples of the mapped pack
// against the 16-channel tile's, one run each): none 0.48, 32 floats 0.36, 64 0.38, 128 0.38,
// 256 0.44; the step 1.017x with 64 (8 A-B/B-A rounds). The same prefetches in the unpack (its
// accumulated rows, x for the fused sums) moved nothing and are not made.
constexpr int64_t kStreamAhead = 64;

// Channel c0 + l's vector v of pixels [w, w + V::kLanes) through a BatchNorm's map (xr: the rows of
// map.x, input_grad): bn_map_value's arithmetic, each product rounded on its own as the scalar
// code's (V::rounded), so the packed values have the bits of the BatchNorm's own passes.
template <class V>
[[gnu::always_inline]] inline typename V::reg map_vector(typename V::reg v, const BnPackMap& m, const float* const* xr,
                                                         int c0, int l, int64_t w, int valid = V::kLanes) {
  const BnChannel& k = m.channels[c0 + l];
  if (!m.input_grad) {
    v = V::add(V::rounded(V::mul(v, V::set1(k.scale))), V::set1(k.shift));
    return m.relu ? V::max(v, V::zero()) : v;  // max(NaN or -0, 0) is 0: bn_relu's select
  }
  const typename V::reg x = valid == V::kLanes ? V::load(xr[l] + w) : V::load_n(xr[l] + w, valid);
  if (m.relu) v = V::where_positive(V::add(V::rounded(V::mul(x, V::set1(k.scale))), V::set1(k.shift)), v);
  const typename V::reg t = V::rounded(V::mul(V::rounded(V::mul(V::sub(x, V::set1(k.mean)), V::set1(k.invstd))), V::set1(k.mdx)));
  return V::mul(V::set1(k.k), V::sub(V::sub(v, V::set1(k.mdy)), t));
}

// Pixel w's place in dst: pix[w] floats in (a run of rows with the plane's borders between them),
// or w * L (null).
template <int L>
[[gnu::always_inline]] inline float* pixel_at(float* dst, const int64_t* pix, int64_t w) {
  return dst + (pix ? pix[w] : w * L);
}

// Pixels [w, w + n) (n <= 8: the last ones of a row, read with masked loads).
template <int L, bool kMapped>
void pack_pixels8(const float* const* rows, int count, int64_t w, float* dst, const int64_t* pix, const BnPackMap* m,
                  const float* const* xr, int c0, int n = 8) {
  for (int c = 0; c < L; c += 8) {
    __m256 r[8];
    for (int l = 0; l < 8; ++l) {
      r[l] = c + l >= count ? _mm256_setzero_ps() : n == 8 ? _mm256_loadu_ps(rows[c + l] + w) : V256::load_n(rows[c + l] + w, n);
      if constexpr (kMapped)
        if (c + l < count) r[l] = map_vector<V256>(r[l], *m, xr + c, c0 + c, l, w, n);
    }
    transpose8x8(r);
    for (int j = 0; j < n; ++j) _mm256_storeu_ps(pixel_at<L>(dst, pix, w + j) + c, r[j]);
  }
}

// kMapped: through m (map_vector; the last W % 8 pixels too, with masked loads: scalar code here
// could be contracted into FMAs, and a call per value made ResNet-50's 14x14 and 7x7 layers' packs
// several times slower).
// kPix: pixel w stored at dst + pix[w] (pixel_at), its own code so that the rows' plain runs keep
// their constant offsets.
template <class V, bool kMapped, bool kPix>
void pack_pixels_through(const float* const* rows, int count, int64_t W, float* dst, const int64_t* pix,
                         const BnPackMap* m, const float* const* xr, int c0) {
  constexpr int L = V::kLanes;
  static_assert(L % 8 == 0);
  if constexpr (!kPix) pix = nullptr;
  int64_t w = 0;
  for (; w + L <= W; w += L) {
    typename V::reg r[L];
    for (int l = 0; l < L; ++l) {
      if (l < count) {
        __builtin_prefetch(rows[l] + w + kStreamAhead);
        if (kMapped && m->input_grad) __builtin_prefetch(xr[l] + w + kStreamAhead);
      }
      r[l] = l < count ? V::load(rows[l] + w) : V::zero();
      if constexpr (kMapped)
        if (l < count) r[l] = map_vector<V>(r[l], *m, xr, c0, l, w);
    }
    V::transpose(r);
    for (int j = 0; j < L; ++j) V::store(pixel_at<L>(dst, pix, w + j), r[j]);
  }
  for (; w + 8 <= W; w += 8) pack_pixels8<L, kMapped>(rows, count, w, dst, pix, m, xr, c0);
  if constexpr (kMapped) {
    if (w < W) pack_pixels8<L, true>(rows, count, w, dst, pix, m, xr, c0, static_cast<int>(W - w));
    return;
  }
  for (; w < W; ++w)
    for (int l = 0; l < L; ++l) pixel_at<L>(dst, pix, w)[l] = l < count ? rows[l][w] : 0.f;
}

template <class V>
void pack_pixels(const float* const* rows, int count, int64_t W, float* dst, const int64_t* pix) {
  if (pix) return pack_pixels_through<V, false, true>(rows, count, W, dst, pix, nullptr, nullptr, 0);
  pack_pixels_through<V, false, false>(rows, count, W, dst, nullptr, nullptr, nullptr, 0);
}

template <class V>
void pack_mapped(const float* const* rows, const float* const* xrows, int count, int64_t W, float* dst,
                 const int64_t* pix, const BnPackMap& map, int c0) {
  if (pix) return pack_pixels_through<V, true, true>(rows, count, W, dst, pix, &map, xrows, c0);
  pack_pixels_through<V, true, false>(rows, count, W, dst, nullptr, &map, xrows, c0);
}

// plane_grad_sums(_relu) with kStatLanes partial sums as R = kStatLanes / L vectors, each
// operation rounded as the scalar code's. Measured (session 24, Zen 5, ResNet-20 b128 training, 5
// alternating runs of `--layers`): its BatchNorms' backward (sums and nothing else, packed) 0.80
// -> 0.54 ms at 32x32, 0.45 -> 0.34 at 16x16, 0.34 -> 0.29 at 8x8 against the scalar code (the
// x86-64 baseline's 4 lanes).
template <class V>
struct GradSums {
  static constexpr int R = kStatLanes / V::kLanes;
  static_assert(kStatLanes % V::kLanes == 0);
  using reg = typename V::reg;
  reg a[R], b[R];
  GradSums() {
    for (int r = 0; r < R; ++r) a[r] = b[r] = V::zero();
  }
  // d (through the ReLU's mask of the BatchNorm's output at x when relu) into a[r], d (x - mean)
  // into b[r]
  [[gnu::always_inline]] void add(int r, reg x, reg d, float mean, const BnChannel* relu) {
    if (relu) d = V::where_positive(V::add(V::rounded(V::mul(x, V::set1(relu->scale))), V::set1(relu->shift)), d);
    a[r] = V::add(a[r], d);
    b[r] = V::add(b[r], V::rounded(V::mul(d, V::sub(x, V::set1(mean)))));
  }
  void finish(float& sum_dy, float& sum_dy_xc) const {
    alignas(64) float sa[kStatLanes], sb[kStatLanes];
    for (int r = 0; r < R; ++r) V::store(sa + r * V::kLanes, a[r]), V::store(sb + r * V::kLanes, b[r]);
    float s = 0, t = 0;  // channel_stats.cpp's combine
    for (int l = 0; l < kStatLanes; ++l) s += sa[l], t += sb[l];
    sum_dy = s, sum_dy_xc = t;
  }
};

// The last values by masked loads (zeros past n add nothing).
template <class V>
void grad_sums(const float* x, const float* dy, int64_t n, float mean, const BnChannel* relu, float& sum_dy,
               float& sum_dy_xc) {
  constexpr int L = V::kLanes, R = GradSums<V>::R;
  GradSums<V> g;
  int64_t i = 0;
  for (; i + kStatLanes <= n; i += kStatLanes)
    for (int r = 0; r < R; ++r) g.add(r, V::load(x + i + r * L), V::load(dy + i + r * L), mean, relu);
  for (int r = 0; r < R; ++r) {
    const int valid = static_cast<int>(std::clamp<int64_t>(n - i - r * L, 0, L));
    if (valid > 0) g.add(r, V::load_n(x + i + r * L, valid), V::load_n(dy + i + r * L, valid), mean, relu);
  }
  g.finish(sum_dy, sum_dy_xc);
}

// Channel l's vector v of pixels [w, w + V::kLanes) through e, stored to rows[l] + w.
template <class V>
[[gnu::always_inline]] inline typename V::reg finish_vector(typename V::reg v, int l, int64_t w,
                                                            const BlockedEpilogue& e, float* const* rows) {
  if (e.bias) v = V::add(v, V::set1(e.bias[l]));
  if (e.residual) v = V::add(v, V::load(e.residual[l] + w));
  // max first: a NaN becomes lo, as finish_output_run's comparisons make it
  if (e.clamp) v = V::min(V::max(v, V::set1(e.lo)), V::set1(e.hi));
  if (e.sums) {
    double* s = e.sums + l * kBlockedSumStride;
    V::add_sums8(v, s, s + kBlockedSumLanes);
  }
  if (e.accumulate) v = V::add(v, V::load(rows[l] + w));
  if (e.stream) V::stream(rows[l] + w, v);
  else V::store(rows[l] + w, v);
  return v;
}

// Pixel w's vector of lanes [c0, c0 + V::kLanes) from src, with a blocked residual (and the bias)
// added when e has one.
template <class V>
[[gnu::always_inline]] inline typename V::reg pixel_vector(const float* src, int64_t w, int c0, const BlockedEpilogue& e) {
  typename V::reg v = V::load(src + c0);
  if (!e.residual_px) return v;
  if (e.bias) v = V::add(v, V::load(e.bias + c0));
  return V::add(v, V::load(e.residual_px + e.residual_pix[w] + c0));
}

// e without what pixel_vector added.
inline BlockedEpilogue after_pixel_vectors(const BlockedEpilogue& e) {
  BlockedEpilogue post = e;
  if (e.residual_px) post.bias = nullptr, post.residual_px = nullptr;
  return post;
}

template <int L>
void unpack_finish8(const float* src, int64_t w, int count, const BlockedEpilogue& e, const BlockedEpilogue& post,
                    float* const* rows) {
  for (int c0 = 0; c0 < count; c0 += 8) {
    __m256 r[8];
    for (int j = 0; j < 8; ++j) r[j] = pixel_vector<V256>(src + (w + j) * L, w + j, c0, e);
    transpose8x8(r);
    for (int l = 0; l < 8 && c0 + l < count; ++l) finish_vector<V256>(r[l], c0 + l, w, post, rows);
  }
}

// The pixels [0, W - W % L) through L x L transposes (their BatchNorm sums into sums[l] when set);
// returns the first pixel left.
template <class V>
int64_t unpack_vectors(const float* src, int64_t W, int count, const BlockedEpilogue& e, const BlockedEpilogue& post,
                       float* const* rows, GradSums<V>* sums) {
  constexpr int L = V::kLanes, R = GradSums<V>::R;
  int64_t w = 0;
  for (; w + L <= W; w += L) {
    typename V::reg r[L];
    for (int j = 0; j < L; ++j) r[j] = pixel_vector<V>(src + (w + j) * L, w + j, 0, e);
    V::transpose(r);
    for (int l = 0; l < count; ++l) {
      const typename V::reg v = finish_vector<V>(r[l], l, w, post, rows);
      if (!sums) continue;
      const BnChannel& k = e.grad->channels[l];
      sums[l].add(int(w / L % R), V::load(e.grad->x[l] + w), v, k.mean, e.grad->relu ? &k : nullptr);
    }
  }
  return w;
}

// e.grad: summed as the vectors are finished when all W pixels pass through the transposes in
// grad_sums' lanes (blocked_grad_sums_fused), else from the rows afterwards. Summed as they
// pass, the input gradient need not stay in cache for a pass of sums (conv_direct.cpp streams it
// past): measured (session 28, Intel Xeon, ResNet-20 b128 training, 9 alternating runs, medians)
// 1039 -> 1068 images/s, ResNet-18-CIFAR even (5 runs).
template <class V>
void unpack_finish(const float* src, int64_t W, int count, const BlockedEpilogue& e, float* const* rows) {
  constexpr int L = V::kLanes;
  static_assert(L % 8 == 0);
  const BlockedEpilogue post = after_pixel_vectors(e);
  const BlockedGradSums* grad = e.grad;
  int64_t w = 0;
  if (grad && blocked_grad_sums_fused(W)) {
    GradSums<V> sums[kMaxBlockedLanes];
    w = unpack_vectors<V>(src, W, count, e, post, rows, sums);
    for (int l = 0; l < count; ++l) sums[l].finish(grad->out[2 * l], grad->out[2 * l + 1]);
    grad = nullptr;
  } else {
    w = unpack_vectors<V>(src, W, count, e, post, rows, nullptr);
  }
  for (; w + 8 <= W; w += 8) unpack_finish8<L>(src, w, count, e, post, rows);
  for (; w < W; ++w)
    for (int l = 0; l < count; ++l)
      store_blocked_value(finish_blocked_value(blocked_pixel_value(src, w, l, L, e), l, w, post), post, rows[l] + w);
  if (e.stream) _mm_sfence();
  if (grad)
    for (int l = 0; l < count; ++l) {
      const BnChannel& k = grad->channels[l];
      grad_sums<V>(grad->x[l], rows[l], W, k.mean, grad->relu ? &k : nullptr, grad->out[2 * l], grad->out[2 * l + 1]);
    }
}

// The input a.prefetch floats ahead of P windows: their origins' lines, or every tap's
// (a.prefetch_taps). Measured (session 20, Zen 5, `--layers`, 3-5 alternating runs), every tap's
// line for strided windows, whose origins skip every other pixel and row: ResNet-50's pool at batch
// 32 6.5-7.4 -> 3.3 ms (it fetched nothing before), VGG-16's five at batch 8 10.4 -> 7.9 ms,
// MobileNet v1's stride-2 depthwise layers at batch 32 9.2 -> 5.2 ms; its stride-1 ones 8.7 ->
// 9.2 with every tap (their origins fetch every line once already).
template <int P>
[[gnu::always_inline]] inline void prefetch_windows(const BlockedDepthwiseArgs& a, const float* const (&xp)[P]) {
  if (!a.prefetch) return;
  if (!a.prefetch_taps) {
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) __builtin_prefetch(xp[p] + a.prefetch);
    return;
  }
  for (int t = 0; t < a.T; ++t)
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) __builtin_prefetch(xp[p] + a.tap[t] + a.prefetch);
}

// The depthwise kernel: P pixels at a time (P independent FMA chains), one weight vector per tap
// shared by them, so about one load per FMA.
template <class V, int P>
[[gnu::always_inline]] inline void depthwise_pixels(const BlockedDepthwiseArgs& a, int64_t i) {
  constexpr int L = V::kLanes;
  const typename V::reg b = a.bias ? V::load(a.bias) : V::zero();
  typename V::reg acc[P];
  const float* xp[P];
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p) acc[p] = b, xp[p] = a.x + a.x_pix[i + p];
  prefetch_windows<P>(a, xp);
  for (int t = 0; t < a.T; ++t) {
    const typename V::reg w = V::load(a.w + t * L);
    const int64_t at = a.tap[t];
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) acc[p] = V::fma(w, V::load(xp[p] + at), acc[p]);
  }
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p) {
    typename V::reg r = acc[p];
    if (a.clamp) r = V::min(V::max(r, V::set1(a.lo)), V::set1(a.hi));
    V::store(a.y + (a.y_pix ? a.y_pix[i + p] : (i + p) * L), r);
  }
}

template <class V, int P>
void depthwise(const BlockedDepthwiseArgs& a, int64_t i0, int64_t i1) {
  int64_t i = i0;
  for (; i + P <= i1; i += P) depthwise_pixels<V, P>(a, i);
  for (; i < i1; ++i) depthwise_pixels<V, 1>(a, i);
}

// Max pooling over the taps, P pixels at a time (the plane's border holds -inf).
template <class V, int P>
[[gnu::always_inline]] inline void maxpool_pixels(const BlockedDepthwiseArgs& a, int64_t i) {
  constexpr int L = V::kLanes;
  typename V::reg acc[P];
  const float* xp[P];
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p) xp[p] = a.x + a.x_pix[i + p], acc[p] = V::load(xp[p] + a.tap[0]);
  prefetch_windows<P>(a, xp);
  for (int t = 1; t < a.T; ++t) {
    const int64_t at = a.tap[t];
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) acc[p] = V::max_nan(acc[p], V::load(xp[p] + at));
  }
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p) V::store(a.y + (a.y_pix ? a.y_pix[i + p] : (i + p) * L), acc[p]);
}

template <class V, int P>
void maxpool(const BlockedDepthwiseArgs& a, int64_t i0, int64_t i1) {
  int64_t i = i0;
  for (; i + P <= i1; i += P) maxpool_pixels<V, P>(a, i);
  for (; i < i1; ++i) maxpool_pixels<V, 1>(a, i);
}

template <class V>
void gather_lanes(const float* base, const int64_t* pix, int64_t step, int64_t count, int64_t ahead, const LaneRuns& r,
                  float* dst) {
  typename V::mask m[2];
  for (int k = 0; k < r.n; ++k) m[k] = V::make_mask(((1u << r.count[k]) - 1) << r.lane[k]);
  for (int64_t i = 0; i < count; ++i, dst += V::kLanes) {
    const float* px = base + pix[i * step];
    if (ahead)
      for (int k = 0; k < r.n; ++k) __builtin_prefetch(base + pix[i * step + ahead] + r.from[k] + r.lane[k]);
    typename V::reg v = V::zero();
    for (int k = 0; k < r.n; ++k) v = V::mask_load(v, m[k], px + r.from[k]);  // masked-off lanes are not read
    V::store(dst, v);
  }
}

// Winograd F(2x2, 3x3)'s transforms (BlockedConvKernel::winograd_input, winograd_output): B^T d B
// and A^T m A, rows first, with the reference's additions in its order.
template <class V>
void winograd_input(const float* x, int64_t row, int64_t count, float* v, int64_t step) {
  constexpr int L = V::kLanes;
  using R = typename V::reg;
  for (int64_t j = 0; j < count; ++j, x += 2 * L, v += L) {
    R e[4][4];
#pragma GCC unroll 4
    for (int b = 0; b < 4; ++b) {
      const R d0 = V::load(x + b * L), d1 = V::load(x + row + b * L);
      const R d2 = V::load(x + 2 * row + b * L), d3 = V::load(x + 3 * row + b * L);
      e[0][b] = V::sub(d0, d2), e[1][b] = V::add(d1, d2), e[2][b] = V::sub(d2, d1), e[3][b] = V::sub(d1, d3);
    }
#pragma GCC unroll 4
    for (int a = 0; a < 4; ++a) {
      float* o = v + 4 * a * step;
      V::store(o, V::sub(e[a][0], e[a][2]));
      V::store(o + step, V::add(e[a][1], e[a][2]));
      V::store(o + 2 * step, V::sub(e[a][2], e[a][1]));
      V::store(o + 3 * step, V::sub(e[a][1], e[a][3]));
    }
  }
}

template <class V>
void winograd_output(const float* m, int64_t step, int64_t count, float* y, int64_t row) {
  constexpr int L = V::kLanes;
  using R = typename V::reg;
  for (int64_t j = 0; j < count; ++j, m += L, y += 2 * L) {
    R e[2][4];
#pragma GCC unroll 4
    for (int b = 0; b < 4; ++b) {
      const R m0 = V::load(m + b * step), m1 = V::load(m + (4 + b) * step);
      const R m2 = V::load(m + (8 + b) * step), m3 = V::load(m + (12 + b) * step);
      e[0][b] = V::add(V::add(m0, m1), m2), e[1][b] = V::sub(V::sub(m1, m2), m3);
    }
#pragma GCC unroll 2
    for (int a = 0; a < 2; ++a) {
      V::store(y + a * row, V::add(V::add(e[a][0], e[a][1]), e[a][2]));
      V::store(y + a * row + L, V::sub(V::sub(e[a][1], e[a][2]), e[a][3]));
    }
  }
}

template <class V>
void winograd_grad(const float* dy, int64_t row, int64_t count, float* v, int64_t step) {
  constexpr int L = V::kLanes;
  using R = typename V::reg;
  for (int64_t j = 0; j < count; ++j, dy += 2 * L, v += L) {
    R e[4][2];
#pragma GCC unroll 2
    for (int b = 0; b < 2; ++b) {
      const R g0 = V::load(dy + b * L), g1 = V::load(dy + row + b * L);
      e[0][b] = g0, e[1][b] = V::add(g0, g1), e[2][b] = V::sub(g0, g1), e[3][b] = V::sub(V::zero(), g1);
    }
#pragma GCC unroll 4
    for (int a = 0; a < 4; ++a) {
      float* o = v + 4 * a * step;
      V::store(o, e[a][0]);
      V::store(o + step, V::add(e[a][0], e[a][1]));
      V::store(o + 2 * step, V::sub(e[a][0], e[a][1]));
      V::store(o + 3 * step, V::sub(V::zero(), e[a][1]));
    }
  }
}

// The table entry of V's kernels: a P-pixel x B-block forward tile, an MT x CV weight-gradient
// tile; 8-pixel depthwise and max-pooling tiles.
template <class V, int P, int B, int MT, int CV>
constexpr BlockedConvKernel table_entry(std::string_view name, Isa isa) {
  return {name,           isa,          V::kLanes,        B, P, forward<V, P, B>, forward<V, P, B, 1>, pack_pixels<V>,
          pack_mapped<V>, unpack_finish<V>, wgrad<V, MT, CV>, depthwise<V, 8>, maxpool<V, 8>, gather_lanes<V>,
          grad_sums<V>,   winograd_input<V>, winograd_output<V>, winograd_grad<V>};
}

}  // namespace cnn::blocked_conv_simd
