#include "kernels/blocked_conv.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <numeric>

#include "core/parallel.h"

namespace cnn {

std::span<const BlockedConvKernel> blocked_conv_kernels() {
  static const std::array<BlockedConvKernel, 6> all{kBlockedConvAvx512FourBlocks, kBlockedConvAvx512,
                                                    kBlockedConvAvx512OneBlock, kBlockedConvAvx2,
                                                    kBlockedConvAvx2OneBlock, kBlockedConvReference};
  return all;
}

// Tiles of more than two blocks: 1x1 convolutions only, whose inputs are read once per tile and
// group (fewer groups, fewer reads), and only when their groups divide M (ResNet-20's 32 channels
// would be half of a four-block group). A 3x3 convolution reads its inputs from L1 for 9 taps but
// its weights from L2, twice as many per multiply-add with 6 x 4 as with 12 x 2: session 23 (Zen
// 5, VGG-16 inference at batch 8, `--layers`, 3 alternating runs) its 28x28 and 14x14 layers
// 16.6-72.6 -> 17.6-74.7 ms with four blocks.
const BlockedConvKernel& blocked_conv_kernel(Isa isa, int M, int taps) {
  const BlockedConvKernel* two = &kBlockedConvReference;
  for (const BlockedConvKernel& k : blocked_conv_kernels()) {
    if (k.isa != isa || isa == Isa::generic) continue;
    if (k.blocks == 1 && M <= k.lanes) return k;
    if (k.blocks == 2) two = &k;
    if (k.blocks > 2 && taps == 1 && M % (k.blocks * k.lanes) == 0) return k;
  }
  return *two;
}

BlockedConvPlan plan_blocked_conv(const ConvGeom& g, int M, const BlockedConvKernel& k) {
  BlockedConvPlan p;
  p.kernel = &k;
  p.g = g;
  p.L = k.lanes;
  p.G = k.blocks * k.lanes;
  p.C = g.C, p.M = M;
  p.CB = (g.C + p.L - 1) / p.L;
  p.MG = (M + p.G - 1) / p.G;
  p.MB = p.MG * k.blocks;
  const int PHe = g.PH_end < 0 ? g.PH : g.PH_end, PWe = g.PW_end < 0 ? g.PW : g.PW_end;
  p.HP = int64_t(g.PH) + g.H + PHe;
  p.WP = int64_t(g.PW) + g.W + PWe;
  p.pixels = int64_t(g.OH) * g.OW;
  p.x_block = p.HP * p.WP * p.L;
  p.x_image = p.x_block * p.CB;
  p.y_block = p.pixels * p.L;
  p.y_image = p.y_block * p.MB;
  for (int kh = 0; kh < g.KH; ++kh)
    for (int kw = 0; kw < g.KW; ++kw) p.tap.push_back((int64_t(kh) * g.DH * p.WP + int64_t(kw) * g.DW) * p.L);
  p.x_pix.resize(size_t(p.pixels));
  for (int oh = 0; oh < g.OH; ++oh)
    for (int ow = 0; ow < g.OW; ++ow)
      p.x_pix[size_t(oh) * g.OW + ow] = (int64_t(oh) * g.SH * p.WP + int64_t(ow) * g.SW) * p.L;
  p.pack_rows = std::min(g.H, p.L / std::gcd(g.W, p.L));
  if (p.pack_rows > 1)
    for (int h = 0; h < p.pack_rows; ++h)
      for (int w = 0; w < g.W; ++w) p.pack_pix.push_back((int64_t(h) * p.WP + w) * p.L);
  return p;
}

bool same_blocked_input(const BlockedConvPlan& a, const BlockedConvPlan& b) {
  return a.L == b.L && a.C == b.C && a.CB == b.CB && a.HP == b.HP && a.WP == b.WP && a.g.H == b.g.H &&
         a.g.W == b.g.W && a.g.PH == b.g.PH && a.g.PW == b.g.PW && a.x_block == b.x_block && a.x_image == b.x_image &&
         a.border == b.border;
}

int64_t blocked_weight_floats(const BlockedConvPlan& p) {
  return int64_t(p.MG) * p.CB * int64_t(p.tap.size()) * p.L * p.G;
}

namespace {
// p's packed weights [MG][CB][taps][L][G] from w: tap t of output channel m and input channel c is
// src(m, c, t). One (output group, input block) panel per work item, G rows of taps * L floats of
// w read in order into a panel that stays in L1. Measured (session 17, Zen 5, training a net of three
// 512-channel 3x3 convolutions at 4x4, `perf`): scattered single-threaded writes with the index
// computed per element took 3.3-4.2% of the step's CPU time; in panels on 2 threads 2.8-3.0% of it
// (half of that in wall time): about what reading and writing 9.4 MB five times a step costs.
template <class Src>
void pack_weights(const BlockedConvPlan& p, int taps, Src src, float* dst) {
  const int64_t panel = int64_t(taps) * p.L * p.G;
  parallel_for(int64_t(p.MG) * p.CB, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) {
      const int m0 = static_cast<int>(i / p.CB) * p.G, c0 = static_cast<int>(i % p.CB) * p.L;
      const int ms = std::min(p.G, p.M - m0), cs = std::min(p.L, p.C - c0);
      float* d = dst + i * panel;  // in L1: scattered writes, reads along w's rows
      if (ms < p.G || cs < p.L) std::fill(d, d + panel, 0.f);
      for (int g = 0; g < ms; ++g)
        for (int l = 0; l < cs; ++l)
          for (int t = 0; t < taps; ++t) d[(int64_t(t) * p.L + l) * p.G + g] = src(m0 + g, c0 + l, t);
    }
  });
}
}  // namespace

void pack_blocked_weights(const BlockedConvPlan& p, const float* w, float* dst, bool flip) {
  const int T = static_cast<int>(p.tap.size());
  pack_weights(p, T, [&](int m, int c, int t) {
    return flip ? w[(int64_t(c) * p.M + m) * T + (T - 1 - t)] : w[(int64_t(m) * p.C + c) * T + t];
  }, dst);
}

ConvGeom backward_data_geometry(const ConvGeom& g, int M) {
  ConvGeom b = g;
  b.C = M, b.H = g.OH, b.W = g.OW;
  const int PHe = g.PH_end < 0 ? g.PH : g.PH_end, PWe = g.PW_end < 0 ? g.PW : g.PW_end;
  b.PH = (g.KH - 1) * g.DH - g.PH, b.PH_end = (g.KH - 1) * g.DH - PHe;
  b.PW = (g.KW - 1) * g.DW - g.PW, b.PW_end = (g.KW - 1) * g.DW - PWe;
  b.finish();
  return b;
}

void fill_blocked_border(const BlockedConvPlan& p, float* dst) { fill_blocked_border(p, dst, 0, p.g.H); }

namespace {
// n floats (a multiple of 8) set to v; zeros in 8-float steps of constant size the compiler writes
// inline: the border between two rows is a few pixels (128 bytes at pad 1 and 16 lanes), and a
// memset call per row cost more than its stores (session 19, Zen 5: 4.3% of ResNet-20's
// inference, whose 8x8 planes have a border piece per 8 pixels).
void fill_short(float* dst, int64_t n, float v) {
  if (v != 0.f) {
    std::fill_n(dst, n, v);
    return;
  }
  for (; n > 0; n -= 8, dst += 8) std::memset(dst, 0, 8 * sizeof(float));
}
void fill(float* dst, int64_t n, float v) {
  if (v != 0.f) {
    std::fill_n(dst, n, v);
    return;
  }
  std::memset(dst, 0, sizeof(float) * size_t(n));
}
}  // namespace

// The border rows whole, then each image row's left and right border.
void fill_blocked_border(const BlockedConvPlan& p, float* dst, int h0, int h1) {
  const ConvGeom& g = p.g;
  const int L = p.L;
  if (h0 == 0) fill(dst, int64_t(g.PH) * p.WP * L, p.border);
  const int64_t below = g.PH + g.H;
  if (h1 == g.H) fill(dst + below * p.WP * L, (p.HP - below) * p.WP * L, p.border);
  if (p.WP == g.W || h0 >= h1) return;
  // One row's right border and the next row's left border are one run.
  const int64_t right = p.WP - g.PW - g.W;
  float* row = dst + int64_t(g.PH + h0) * p.WP * L;
  if (h0 == 0) fill_short(row, g.PW * L, p.border);
  for (int h = h0; h < h1; ++h, row += p.WP * L)
    fill_short(row + (g.PW + g.W) * L, (right + (h + 1 < g.H ? g.PW : 0)) * L, p.border);
}

namespace {
// Packing reads the rows of L channel planes at once (twice as many for a BatchNorm's input
// gradient): more streams than the hardware prefetchers follow. Each run's lanes fetch the run
// at least this many floats ahead. Session 21 (Zen 5, ResNet-50 training at batch 32): without,
// the packs through a BatchNorm's map waited for memory after most loads (`perf annotate`).
constexpr int64_t kPackAheadFloats = 256;
}  // namespace

// In runs of p.pack_rows rows, read as one run of pixels across the rows' ends (NCHW planes are
// contiguous) and stored around the plane's borders (p.pack_pix): rows of 7, 14, 28 or 56 pixels
// (ResNet-50's) otherwise went through 8 x 8 transposes and masked loads for their last 7-8 pixels.
// Measured (session 32, AMD EPYC Zen 4, AVX-512, `cnn bench --train`, runs alternating A-B then
// B-A): ResNet-50 b32 4,188 -> 4,044 ms a step (6 rounds, each one faster; the packs' `perf`
// samples 36% -> 29% of the 1x1 tile's); ResNet-20 b128 (8x8 maps in runs of 2 rows) and
// ResNet-18-CIFAR (4x4 in runs of 4) even (10 and 8 rounds: 1.003x, 0.999x).
void pack_blocked_block(const BlockedConvPlan& p, const float* x, int64_t n, int64_t cb, float* block,
                        const BnPackMap* map) {
  const ConvGeom& g = p.g;
  const int L = p.L;
  const int64_t plane = int64_t(g.H) * g.W;
  fill_blocked_border(p, block);
  const int lanes = static_cast<int>(std::min<int64_t>(L, g.C - cb * L));
  const float* rows[kMaxBlockedLanes];
  const float* xrows[kMaxBlockedLanes];
  const int64_t* pix = p.pack_rows > 1 ? p.pack_pix.data() : nullptr;
  const int64_t run_floats = int64_t(p.pack_rows) * g.W;
  const int64_t ahead = (kPackAheadFloats / run_floats + 1) * run_floats;  // whole runs
  for (int h = 0; h < g.H; h += p.pack_rows) {
    const int64_t at = (n * g.C + cb * L) * plane + int64_t(h) * g.W;  // lane 0's run
    const int64_t count = int64_t(std::min(p.pack_rows, g.H - h)) * g.W;
    for (int l = 0; l < lanes; ++l) rows[l] = x + at + l * plane;
    if (map && map->input_grad)
      for (int l = 0; l < lanes; ++l) xrows[l] = map->x + at + l * plane;
    if (int64_t(h) * g.W + ahead < plane)
      for (int l = 0; l < lanes; ++l)
        for (int64_t o = ahead; o < std::min(ahead + run_floats, plane - int64_t(h) * g.W); o += 16) {
          __builtin_prefetch(rows[l] + o);
          if (map && map->input_grad) __builtin_prefetch(xrows[l] + o);
        }
    float* dst = block + (int64_t(g.PH + h) * p.WP + g.PW) * L;
    if (!map) p.kernel->pack_pixels(rows, lanes, count, dst, pix);
    else p.kernel->pack_mapped(rows, xrows, lanes, count, dst, pix, *map, static_cast<int>(cb * L));
  }
}

void pack_blocked_input(const BlockedConvPlan& p, const float* x, int64_t N, float* xb, const BnPackMap* map) {
  parallel_for_balanced(N * p.CB, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i)
      pack_blocked_block(p, x, i / p.CB, i % p.CB, xb + i / p.CB * p.x_image + i % p.CB * p.x_block, map);
  });
}

namespace {

// Pixel chunks per image: items of about target pixels (the item's input rows, all channel
// blocks, stay in L2 while every output group sweeps them). The caller splits the image's tiles
// evenly among the chunks (at batch 1 the threads share one image: ResNet-50's 28x28 layers ran 15%
// slower in 256-pixel chunks, one thread getting 512 pixels and the other 272; chunks of a rounded-up
// size left a short last one: its 14x14 stride-2 shortcut ran as 60, 60, 60 and 16 pixels, and one
// thread did 120 of 196).
// target: the pixels a pass would like per item. Pixel chunks are split for the threads only when
// images, chunks and the output groups (MG) together give fewer than two items per thread: output
// groups split evenly, pixel chunks to the tile. ResNet-50 at batch 1 (Zen 5, 2 threads, `cnn bench
// --layers`, 4 alternating runs): its 7x7 stage 7.7-8.1 -> 5.2-5.5 ms, the 14x14 stage 9.4-10.3 ->
// 8.5-9.0. Even tiles (session 20, 6 alternating runs, medians): the layers' total 25.2 -> 24.0 ms,
// the 14x14 shortcut 0.68 -> 0.62.
int64_t pixel_chunks(const BlockedConvPlan& p, int64_t N, int threads, int64_t target) {
  const int P = p.kernel->tile;
  target = std::max<int64_t>(target, 4 * P);
  int64_t chunks = (p.pixels + target - 1) / target;
  if (N * chunks * p.MG < 2 * threads && N * chunks < threads) chunks = (chunks + threads - 1) / threads * threads;
  return std::min(chunks, (p.pixels + P - 1) / P);
}

}  // namespace

namespace {
// Input rows ahead of a strided convolution's windows fetched into the caches, every tap's line
// (its windows skip every other pixel and row, so the hardware's stream prefetch falls behind).
// Measured (session 23, Zen 5, ResNet-20 inference at batch 128, `cnn bench --layers`, 3
// alternating runs): its two stride-2 3x3 layers 1.08-1.14 and 0.87-1.17 ms without, 0.84-0.88
// and 0.81-0.85 two rows ahead, 0.81-0.90 and 0.80-0.84 four rows ahead; ONNX Runtime 0.79 and
// 0.77. Stride-1 3x3 layers, whose windows read each line for 3 rows of taps, gained nothing
// (1.36-1.69 -> 1.40-1.74 ms).
constexpr int64_t kStridedPrefetchRows = 2;
}  // namespace

namespace {
// The arguments every item of p shares (input layout, taps, prefetch).
BlockedConvArgs conv_args(const BlockedConvPlan& p) {
  BlockedConvArgs a;
  a.CB = p.CB, a.T = static_cast<int>(p.tap.size()), a.tap = p.tap.data();
  a.last_lanes = p.C % p.L;
  a.x_block = p.x_block, a.x_pix = p.x_pix.data();
  // Session 19 (Zen 5, 7 alternating runs): ResNet-50 inference at batch 32 38.5 -> 41.6
  // images/s, its 1x1 layers 18% faster (`--layers`); MobileNet v1 229 -> 237. A 3x3
  // convolution reads each pixel for 9 taps from L1 and gained nothing.
  if (p.tap.size() == 1) a.prefetch = p.x_block;
  if (p.tap.size() > 1 && p.g.SH > 1) a.prefetch = kStridedPrefetchRows * p.WP * p.L, a.prefetch_taps = true;
  return a;
}
// Input floats a pixel chunk of p would like (its rows, all channel blocks, stay in L2 while every
// output group sweeps them).
int64_t chunk_target(const BlockedConvPlan& p) { return (int64_t(1) << 15) / (int64_t(p.CB) * p.L); }

// Packed weights beyond which a thread's images take the output groups in the outer loop: each
// group's weights (590 KB at 512 channels) then come from L2 for all the images instead of from L3
// once per image. Session 26 (Intel Xeon, AVX-512; alternating runs, medians): a net of three
// 512-channel 3x3 convolutions at 4x4, training at batch 128, 359 -> 418 images/s (5 runs);
// ResNet-18-CIFAR 81.3 -> 85.0 (8 runs); the kernel alone on 9 images per thread, 2 threads, 218 ->
// 282 GFLOP/s. At 64 channels (72 KB a group) the image stays the outer loop: its input is the larger.
constexpr int64_t kWeightsInCacheFloats = int64_t(1) << 18;
}  // namespace

void blocked_conv_images(const BlockedConvPlan& p, int64_t count, const float* xb, const float* wpacked, float* yb) {
  const BlockedConvKernel& k = *p.kernel;
  const int64_t chunks = pixel_chunks(p, count, 1, chunk_target(p));
  const int64_t tiles = (p.pixels + k.tile - 1) / k.tile;
  const int64_t group_w = int64_t(p.CB) * int64_t(p.tap.size()) * p.L * p.G;
  BlockedConvArgs a = conv_args(p);
  a.y_block = p.y_block;
  auto run = [&](int64_t n, int64_t c, int64_t grp) {
    const int64_t i0 = tiles * c / chunks * k.tile, i1 = std::min(p.pixels, tiles * (c + 1) / chunks * k.tile);
    a.x = xb + n * p.x_image;
    a.w = wpacked + grp * group_w;
    a.y = yb + n * p.y_image + grp * k.blocks * p.y_block;
    k.forward(a, i0, i1);
  };
  if (group_w * p.MG > kWeightsInCacheFloats) {  // each group's weights once for all the images
    for (int64_t grp = 0; grp < p.MG; ++grp)
      for (int64_t n = 0; n < count; ++n)
        for (int64_t c = 0; c < chunks; ++c) run(n, c, grp);
    return;
  }
  for (int64_t n = 0; n < count; ++n)
    for (int64_t c = 0; c < chunks; ++c)
      for (int64_t grp = 0; grp < p.MG; ++grp) run(n, c, grp);
}

void blocked_conv_run(const BlockedConvPlan& p, int64_t N, const float* xb, const float* wpacked, float* yb,
                      const BlockedOutputTarget* target) {
  const BlockedConvKernel& k = *p.kernel;
  const BlockedConvPlan* into = target ? target->plane : nullptr;
  const int64_t y_image = into ? into->x_image : p.y_image, y_block = into ? into->x_block : p.y_block;
  const int threads = num_threads();
  const int64_t chunks = pixel_chunks(p, N, threads, chunk_target(p)), items = N * chunks;
  const int64_t tiles = (p.pixels + k.tile - 1) / k.tile;
  const int64_t group_w = int64_t(p.CB) * int64_t(p.tap.size()) * p.L * p.G;
  // Images and pixel chunks for the threads; output groups too when those are fewer than two per
  // thread (small maps at small batches), the outer split (each thread then gets whole parts of
  // every chunk: equal work when the chunks are not). Each output is computed by the same code
  // either way.
  const int64_t parts = items >= 2 * threads ? 1 : std::min<int64_t>(p.MG, (2 * threads + items - 1) / items);
  parallel_for_balanced(items * parts, [&](int64_t b, int64_t e, int) {
    for (int64_t it = b; it < e; ++it) {
      const int64_t item = it % items, part = it / items;
      const int64_t n = item / chunks, c = item % chunks;
      const int64_t i0 = tiles * c / chunks * k.tile, i1 = std::min(p.pixels, tiles * (c + 1) / chunks * k.tile);
      const int64_t g0 = p.MG * part / parts, g1 = p.MG * (part + 1) / parts;
      BlockedConvArgs a = conv_args(p);
      a.x = xb + n * p.x_image;
      a.y_block = y_block;
      if (into) {
        a.y_pix = target->pix;
        a.clamp = target->clamp, a.lo = target->lo, a.hi = target->hi;
      }
      for (int64_t grp = g0; grp < g1; ++grp) {
        a.w = wpacked + grp * group_w;
        a.y = yb + n * y_image + grp * k.blocks * y_block;
        if (into) {
          a.y_blocks = into->CB - int(grp) * k.blocks;
          // The borders of the rows this item writes, while the kernel's stores bring their lines
          // in: a pass of its own before the kernel took 3.3% of MobileNet v1's inference at batch
          // 32 (Zen 5, `perf`), its lines missing the caches twice.
          for (int blk = 0; blk < std::min(k.blocks, a.y_blocks); ++blk)
            fill_blocked_border(*into, a.y + blk * y_block, int((i0 + p.g.OW - 1) / p.g.OW), int((i1 + p.g.OW - 1) / p.g.OW));
          a.bias = target->bias ? target->bias + grp * p.G : nullptr;
          const BlockedResidual& r = target->residual;
          if (r.data) {
            a.res = r.data + n * r.image + grp * k.blocks * r.block;
            a.res_block = r.block, a.res_lane = r.lane, a.res_pix = r.pix;
            a.res_channels = r.channels - int(grp) * p.G;
          }
        }
        k.forward(a, i0, i1);
      }
    }
  });
}

void store_blocked_target(const BlockedConvPlan& p, int64_t N, const float* yb, const BlockedOutputTarget& t, float* y) {
  const BlockedConvPlan& into = *t.plane;
  const int L = p.L, blocks = std::min(into.CB, (p.M + L - 1) / L);
  const BlockedResidual& r = t.residual;
  parallel_for_balanced(N * blocks, [&](int64_t b0, int64_t b1, int) {
    float v[kMaxBlockedLanes];
    for (int64_t it = b0; it < b1; ++it) {
      const int64_t n = it / blocks;
      const int b = static_cast<int>(it % blocks);
      const float* src = yb + n * p.y_image + b * p.y_block;
      float* dst = y + n * into.x_image + b * into.x_block;
      fill_blocked_border(into, dst);
      const float* res = r.data ? r.data + n * r.image + b * r.block : nullptr;
      const int res_lanes = r.lane == 1 ? L : std::clamp(r.channels - b * L, 0, L);
      for (int64_t i = 0; i < p.pixels; ++i) {
        for (int l = 0; l < L; ++l) v[l] = src[i * L + l];
        if (t.bias)
          for (int l = 0; l < L; ++l) v[l] += t.bias[b * L + l];
        if (res) {
          const float* q = res + (r.pix ? r.pix[i] : i);
          for (int l = 0; l < res_lanes; ++l) v[l] += q[l * r.lane];
        }
        if (t.clamp)
          for (int l = 0; l < L; ++l) v[l] = v[l] > t.lo ? (v[l] < t.hi ? v[l] : t.hi) : t.lo;
        std::copy_n(v, L, dst + t.pix[i]);
      }
    }
  });
}

namespace {
// floor(n / d) for d > 0.
int64_t floor_div(int64_t n, int64_t d) { return n >= 0 ? n / d : -((-n + d - 1) / d); }
}  // namespace

BlockedStridedDx plan_blocked_strided_dx(const ConvGeom& g, int M, const BlockedConvKernel& k) {
  BlockedStridedDx s;
  // Each phase's taps and their offsets (in output-gradient rows and columns) from the phase pixel.
  struct Tap { int t; int64_t dh, dw; };
  std::vector<std::vector<Tap>> taps;
  int64_t top = 0, left = 0, bottom = 0, right = 0;
  for (int a = 0; a < g.SH; ++a)
    for (int b = 0; b < g.SW; ++b) {
      BlockedPhase ph;
      ph.a = a, ph.b = b;
      ph.rows = a < g.H ? (g.H - a + g.SH - 1) / g.SH : 0;
      ph.cols = b < g.W ? (g.W - b + g.SW - 1) / g.SW : 0;
      std::vector<Tap> list;
      for (int kh = 0; kh < g.KH; ++kh)
        for (int kw = 0; kw < g.KW; ++kw) {
          const int64_t nh = int64_t(a) + g.PH - int64_t(kh) * g.DH, nw = int64_t(b) + g.PW - int64_t(kw) * g.DW;
          if (floor_div(nh, g.SH) * g.SH != nh || floor_div(nw, g.SW) * g.SW != nw) continue;
          list.push_back({kh * g.KW + kw, floor_div(nh, g.SH), floor_div(nw, g.SW)});
        }
      if (ph.rows == 0 || ph.cols == 0) list.clear();
      for (const Tap& t : list) {
        top = std::max(top, -t.dh), left = std::max(left, -t.dw);
        bottom = std::max(bottom, ph.rows - 1 + t.dh - (g.OH - 1));
        right = std::max(right, ph.cols - 1 + t.dw - (g.OW - 1));
        ph.taps.push_back(t.t);
      }
      taps.push_back(std::move(list));
      s.phases.push_back(std::move(ph));
    }
  ConvGeom d;  // the output gradient, padded
  d.C = M, d.H = g.OH, d.W = g.OW;
  d.PH = int(top), d.PH_end = int(bottom), d.PW = int(left), d.PW_end = int(right);
  d.finish();
  s.pad = plan_blocked_conv(d, M, k);
  for (size_t i = 0; i < s.phases.size(); ++i) {
    BlockedPhase& ph = s.phases[i];
    BlockedConvPlan& p = ph.plan;
    p = s.pad;  // its input layout: the padded output gradient
    p.C = M, p.M = g.C;
    p.CB = (M + p.L - 1) / p.L;
    p.MG = (g.C + p.G - 1) / p.G;
    p.MB = p.MG * k.blocks;
    p.pixels = ph.rows * ph.cols;
    p.y_block = p.pixels * p.L;
    p.y_image = p.y_block * p.MB;
    p.tap.clear();
    for (const Tap& t : taps[i]) p.tap.push_back(((t.dh + top) * p.WP + t.dw + left) * p.L);
    p.x_pix.resize(size_t(p.pixels));
    for (int64_t r = 0; r < ph.rows; ++r)
      for (int64_t c = 0; c < ph.cols; ++c) p.x_pix[size_t(r * ph.cols + c)] = (r * p.WP + c) * p.L;
  }
  return s;
}

int64_t blocked_phase_weight_floats(const BlockedPhase& ph) { return blocked_weight_floats(ph.plan); }

void pack_blocked_phase_weights(const BlockedPhase& ph, const float* w, int T, float* dst) {
  const BlockedConvPlan& p = ph.plan;  // outputs: the forward's input channels; inputs: its outputs
  pack_weights(p, static_cast<int>(ph.taps.size()), [&](int m, int c, int t) {
    return w[(int64_t(c) * p.M + m) * T + ph.taps[size_t(t)]];
  }, dst);
}

std::vector<int64_t> blocked_interior_pixels(const BlockedConvPlan& p) {
  const ConvGeom& g = p.g;
  std::vector<int64_t> at;
  at.reserve(size_t(g.H) * size_t(g.W));
  for (int h = 0; h < g.H; ++h)
    for (int w = 0; w < g.W; ++w) at.push_back(((int64_t(h) + g.PH) * p.WP + w + g.PW) * p.L);
  return at;
}

int64_t blocked_wgrad_floats(const BlockedConvPlan& p) {
  return int64_t(p.tap.size()) * p.M * p.CB * p.L;
}

int blocked_wgrad_units(const BlockedConvPlan& p, int threads) {
  // Units per thread while all partials stay within 1 Mi floats (4 MiB): more units, finer
  // balancing, but a longer sum at the end (units x partial). Measured with the unpack's sum slots
  // and the balanced packs (session 22, Zen 5, ResNet-20 b128 training, 5 alternating runs, a
  // `nice -n 5` busy loop pinned to the second core): 477 -> 519 images/s, each run faster; with
  // both cores free, within the noise (802 vs 788, 10 runs).
  constexpr int64_t kUnitsPerThread = 4, kPartialsFloats = int64_t(1) << 20;
  const int64_t per_thread = kPartialsFloats / (std::max<int64_t>(blocked_wgrad_floats(p), 1) * threads);
  return threads * static_cast<int>(std::clamp<int64_t>(per_thread, 1, kUnitsPerThread));
}

namespace {
BlockedWgradArgs wgrad_args(const BlockedConvPlan& p, const BlockedGradient& dy) {
  BlockedWgradArgs a;
  a.CB = p.CB, a.M = p.M, a.T = static_cast<int>(p.tap.size()), a.tap = p.tap.data();
  a.x_block = p.x_block, a.x_pix = p.x_pix.data();
  a.dy_block = dy.dy_block, a.dy_pix = dy.dy_pix;
  a.OW = p.g.OW, a.x_step = int64_t(p.g.SW) * p.L;
  a.x_image = p.x_image, a.dy_image = dy.dy_image;
  return a;
}
}  // namespace

void blocked_wgrad_images(const BlockedConvPlan& p, int64_t count, const float* xb, const BlockedGradient& dy,
                          float* dwt) {
  BlockedWgradArgs a = wgrad_args(p, dy);
  a.x = xb, a.dy = dy.dy, a.images = count;
  p.kernel->wgrad(a, 0, p.pixels, dwt);
}

bool blocked_wgrad_large(const BlockedConvPlan& p) {
  // A large weight gradient is swept (read and written) once per item: large items for it. Session
  // 19 (Zen 5): ResNet-18-CIFAR's 512-channel 4x4 layers (9.4 MB per thread) swept it every 4
  // images; with 16, their backward 294-384 -> 252-271 ms (2 runs of `--train --layers`).
  constexpr int64_t kWgradLargeFloats = int64_t(1) << 20;
  return blocked_wgrad_floats(p) > kWgradLargeFloats;
}

namespace {
// Floats of x and dy per work item of the weight gradient.
int64_t wgrad_item_floats(const BlockedConvPlan& p) {
  // Long sweeps: each tile's sums are added to the partial once per work item, and rows of one
  // image are read in order (the tile walks them with two pointers). Measured (session 14, Zen 3,
  // one thread, the kernel alone, 3 alternating runs), items of 256 Ki floats (1 MiB) of x and dy
  // against 24 KiB (L1): ResNet-20 16 @32 93-95 / 89-90 GFLOP/s, 64 @8 77 / 67, ResNet-50 128 @28
  // 84-92 / 59-60. Small maps take several images per item: ResNet-18's 512-channel 4x4 layers
  // swept 16 pixels per tile one image at a time, at half the forward's speed.
  // Small images (x and dy of at most 32 Ki floats) take items of 64 Ki floats instead: measured
  // (session 15, Zen 3, the kernel alone, alternating; GFLOP/s with 256 Ki / 64 Ki, 1 thread, then
  // 2) ResNet-20 16 @32 80 / 90 and 150-158 / 176-179, 32 @16 77 / 83 and 152-154 / 166-169, 64
  // @8 67-68 / 74 and 131-136 / 144-150; ResNet-18 256 @8 76 / 81, 512 @4 56-57 / 61-62 and 110 /
  // 114-116. Larger images lose with them (ResNet-50 b32: 128 @28 93-94 / 87, 512 @7 72-73 / 70,
  // 64 @56 95-96 / 92-93).
  constexpr int64_t kWgradItemFloats = int64_t(1) << 18, kWgradSmallItemFloats = int64_t(1) << 16;
  constexpr int64_t kWgradSmallImageFloats = int64_t(1) << 15;
  const int64_t pixel_floats = int64_t(p.CB + p.MB) * p.L;  // x and dy
  const bool small = p.pixels * pixel_floats <= kWgradSmallImageFloats && !blocked_wgrad_large(p);
  return small ? kWgradSmallItemFloats : kWgradItemFloats;
}
}  // namespace

int64_t blocked_wgrad_item_images(const BlockedConvPlan& p) {
  const int64_t image = p.pixels * int64_t(p.CB + p.MB) * p.L;  // x and dy
  return std::max<int64_t>(wgrad_item_floats(p) / std::max<int64_t>(image, 1), 1);
}

void blocked_wgrad_run(const BlockedConvPlan& p, int64_t N, const float* xb, const BlockedGradient& dy,
                       float* partials, int units) {
  const int64_t pixel_floats = int64_t(p.CB + p.MB) * p.L;  // x and dy
  const int64_t item = wgrad_item_floats(p);
  const int64_t target = std::max<int64_t>(item / pixel_floats, 1);
  // Each unit an equal run of the N x pixels (image, pixel) pairs (whole images in groups of up
  // to `group`, or pixel chunks of up to `target`): with whole items per unit, ResNet-20's 26
  // images of a group split 14 / 12 between two.
  const int64_t P = p.pixels, total = N * P, group = target / P, part = blocked_wgrad_floats(p);
  parallel_for_balanced(units, [&](int64_t b, int64_t e, int) {
    BlockedWgradArgs a = wgrad_args(p, dy);
    for (int64_t u = b; u < e; ++u)
      for (int64_t s = total * u / units, f = total * (u + 1) / units; s < f;) {
        const int64_t n = s / P, i0 = s % P;
        int64_t i1 = P;
        a.images = 1;
        if (i0 == 0 && group > 0 && f - s >= P) a.images = std::min(group, (f - s) / P);
        else i1 = std::min({P, i0 + (f - s), i0 + target});
        a.x = xb + n * p.x_image;
        a.dy = dy.dy + n * dy.dy_image;
        p.kernel->wgrad(a, i0, i1, partials + u * part);
        s += a.images * (i1 - i0);
      }
  });
}

void add_blocked_wgrad(const BlockedConvPlan& p, const float* partials, int units, float* dw) {
  const int T = static_cast<int>(p.tap.size());
  const int64_t CBL = int64_t(p.CB) * p.L, part = blocked_wgrad_floats(p);
  // In parallel over output channels, each value summed in unit order: the same bits as one thread.
  parallel_for(p.M, [&](int64_t m0, int64_t m1, int) {
    for (int64_t m = m0; m < m1; ++m)  // dw's row m (C * T floats) stays in L1
      for (int u = 0; u < units; ++u)
        for (int t = 0; t < T; ++t) {
          const float* src = partials + u * part + (int64_t(t) * p.M + m) * CBL;
          float* dst = dw + m * p.C * T + t;
          for (int c = 0; c < p.C; ++c) dst[int64_t(c) * T] += src[c];
        }
  });
}

}  // namespace cnn
