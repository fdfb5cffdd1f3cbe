#include "kernels/winograd_conv.h"

#include <algorithm>

#include "core/parallel.h"

namespace cnn {

namespace {
// Channels in and out below which the direct kernel stays: the transforms cost the same per
// channel while the products shrink with the channels. Session 27 (Intel Xeon, ResNet-20 b128
// training, `cnn bench --train --layers` with the rule at 16): its 16-channel layers' forward
// 3.1-3.2 -> 3.4-3.8 ms and backward 5.9-6.7 -> 7.1-10.7; the 32-channel ones even (forward
// 3.0-3.7 -> 2.9-3.2, backward 4.2-6.6 -> 4.6-7.7). Session 30 (the same Xeon, after session 28's
// vector weight transforms and partial sums): the 32-channel layers now gain, forward 2.1-2.7 ->
// 1.7-2.0 ms and backward 4.4-6.3 -> 3.8-4.3 (`--layers`, 2 runs each way), the step 1.066x
// (8 alternating pairs of runs, median of the ratios; 7 of 8 faster); the 16-channel ones still
// lose (3.0-3.5 -> 3.0-3.5 forward, 5.4-6.4 -> 6.7-7.2 backward). Both counts matter: the
// products save per channel pair, the input transform costs per input channel and the output's
// per output channel, so a layer with 32 of one and more of the other is no worse off than
// ResNet-20's 32 x 32 (DenseNet-121's 128 -> 32 layers: its step even, 4 pairs at batch 16).
constexpr int kWinogradMinChannels = 32;
// Tiles per chunk: its 16 transformed inputs and products (16 x (C + M) x 72 floats: 576 KB at 64
// channels) stay in L2, and each product's weights are used for 72 tiles. Measured with the
// prototype (session 27, alternating with the direct kernel): 64 @32x32 1.33x with 48 and 256 tiles
// alike, 256 @8x8 1.20x with 48 and 1.75x with 64 (4 images' tiles), 512 @4x4 1.49x with 16,
// 1.55x with 32, 1.65x with 64. 72 since session 30: whole runs of the products' 12- and 6-pixel
// tiles (64 left a 4-pixel tail per product); ResNet-20 b128 training, Winograd layers' time over
// the direct layers' in the same step (`--layers`, 3 runs each) forward 0.92-0.94 -> 0.88-0.89,
// backward 2.04-2.17 -> 1.98-2.05, the step 1.041x (8 alternating pairs, median ratio);
// ResNet-18-CIFAR's the same way (2 runs each) forward 3.62-3.79 -> 3.59-3.72, backward 3.79-4.03
// -> 3.76-3.80.
constexpr int64_t kWinogradTiles = 72;
// The transforms' 16 positions.
constexpr int kPoints = 16;
}  // namespace

bool winograd_suits(const ConvGeom& g, int M) {
  const int bottom = g.PH_end < 0 ? g.PH : g.PH_end, right = g.PW_end < 0 ? g.PW : g.PW_end;
  return g.KH == 3 && g.KW == 3 && g.SH == 1 && g.SW == 1 && g.DH == 1 && g.DW == 1 && g.PH == 1 && g.PW == 1 &&
         bottom == 1 && right == 1 && g.OH % 2 == 0 && g.OW % 2 == 0 && g.C >= kWinogradMinChannels &&
         M >= kWinogradMinChannels;
}

// Session 27 (Intel Xeon, 2 threads, `cnn bench --layers`, CNN_CONV_WINOGRAD=0 against on):
// VGG-16 b8's 64-channel 224x224 layer 95 -> 136 ms and 64 -> 128 at 112x112 50 -> 52, its
// 128-512-channel layers 1.3-1.75x faster (features.12 102 -> 61 ms, features.26 27 -> 16);
// ResNet-50 b32's 64-channel 56x56 3x3 layers 19-20 -> 24-28 ms, its 128 and 256-channel ones
// 21-23 -> 17-21. At batch 1 (40 iterations): its 256-channel 14x14 layers (49 tiles, runs of 12
// per weight sweep on 2 threads) 0.86-0.90 -> 1.02-1.06 ms, the 128-channel 28x28 ones (196
// tiles) even (0.70-0.78 against 0.71-0.74); VGG-16's 512-channel layers, 196 tiles per call,
// 1.4-1.7x faster (with 256 as the bound they stayed direct: 95 and 23 ms against 64 and 16).
bool winograd_suits_inference(const ConvGeom& g, int M, int64_t N) {
  constexpr int kInferenceMinChannels = 128;
  constexpr int kInferenceMinOutputs = 64;  // training's bound before session 30; not measured lower
  constexpr int64_t kInferenceMinTiles = 128;
  const int64_t tiles = N * (g.OH / 2) * (g.OW / 2);
  return winograd_suits(g, M) && g.C >= kInferenceMinChannels && M >= kInferenceMinOutputs && tiles >= kInferenceMinTiles;
}

WinogradPlan plan_winograd(const BlockedConvPlan& p) {
  WinogradPlan wp;
  wp.kernel = p.kernel;
  ConvGeom tiles;  // the chunk's tiles as one row of pixels
  tiles.C = p.C, tiles.H = 1, tiles.W = int(kWinogradTiles);
  tiles.finish();
  wp.gemm = plan_blocked_conv(tiles, p.M, blocked_conv_kernel(p.kernel->isa, p.M, 1));
  wp.L = p.L, wp.CB = p.CB, wp.MB = (p.M + p.L - 1) / p.L;
  wp.x_block = p.x_block, wp.x_image = p.x_image, wp.x_row = p.WP * p.L;
  wp.y_block = p.y_block, wp.y_image = p.y_image, wp.y_row = int64_t(p.g.OW) * p.L;
  wp.OW = p.g.OW, wp.TW = p.g.OW / 2;
  wp.tiles = wp.TW * (p.g.OH / 2);
  return wp;
}

int64_t winograd_weight_floats(const WinogradPlan& wp) { return kPoints * blocked_weight_floats(wp.gemm); }

namespace {
// Kernels transformed at once (one weight set's run of output channels), as vector loops: one
// kernel at a time, with 16 results per call, was 5.8% of ResNet-18-CIFAR's training step
// (session 28, `perf`, its 512-channel layers' 2 x 262,144 kernels per step).
constexpr int kKernelRun = 16;

// G w G^T of `count` 3x3 kernels (kernel j's taps tap(j, t), t = 3 * row + column), in double,
// rounded once: u[k][j] for point k. G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1].
template <class Tap>
void transform_kernels(int count, Tap tap, float (&u)[kPoints][kKernelRun]) {
  double w[9][kKernelRun];
  for (int t = 0; t < 9; ++t)
    for (int j = 0; j < kKernelRun; ++j) w[t][j] = j < count ? tap(j, t) : 0.0;
  double g[4][3][kKernelRun];  // G w
  for (int c = 0; c < 3; ++c)
    for (int j = 0; j < kKernelRun; ++j) {
      const double a = w[c][j], b = w[3 + c][j], e = w[6 + c][j];
      g[0][c][j] = a, g[1][c][j] = 0.5 * (a + b + e), g[2][c][j] = 0.5 * (a - b + e), g[3][c][j] = e;
    }
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < kKernelRun; ++j) {
      const double a = g[i][0][j], b = g[i][1][j], e = g[i][2][j];
      u[4 * i][j] = float(a), u[4 * i + 1][j] = float(0.5 * (a + b + e));
      u[4 * i + 2][j] = float(0.5 * (a - b + e)), u[4 * i + 3][j] = float(e);
    }
}
}  // namespace

// One (output group, input block) panel per work item, as pack_blocked_weights, into all 16
// weight sets at once, a run of the group's output channels at a time.
void pack_winograd_weights(const WinogradPlan& wp, const float* w, float* dst, bool flip) {
  const BlockedConvPlan& p = wp.gemm;
  const int64_t panel = int64_t(p.L) * p.G, set = blocked_weight_floats(p);
  parallel_for(int64_t(p.MG) * p.CB, [&](int64_t b, int64_t e, int) {
    float u[kPoints][kKernelRun];
    for (int64_t i = b; i < e; ++i) {
      const int m0 = static_cast<int>(i / p.CB) * p.G, c0 = static_cast<int>(i % p.CB) * p.L;
      const int ms = std::min(p.G, p.M - m0), cs = std::min(p.L, p.C - c0);
      if (ms < p.G || cs < p.L)
        for (int k = 0; k < kPoints; ++k) std::fill_n(dst + k * set + i * panel, panel, 0.f);
      for (int l = 0; l < cs; ++l)
        for (int g0 = 0; g0 < ms; g0 += kKernelRun) {
          const int64_t c = c0 + l, m = m0 + g0;
          const int n = std::min(kKernelRun, ms - g0);
          if (flip) transform_kernels(n, [&](int j, int t) { return w[(c * p.M + m + j) * 9 + 8 - t]; }, u);
          else transform_kernels(n, [&](int j, int t) { return w[((m + j) * p.C + c) * 9 + t]; }, u);
          for (int k = 0; k < kPoints; ++k) std::copy_n(u[k], n, dst + k * set + i * panel + int64_t(l) * p.G + g0);
        }
    }
  });
}

int64_t winograd_scratch_floats(const WinogradPlan& wp) { return kPoints * (wp.gemm.x_image + wp.gemm.y_image); }

namespace {
// Tiles [t0, t0 + count) of the call's images in runs along a row of tiles: fn(n, tile row, first
// tile in the row, run length, run's place in the chunk).
template <class Fn>
void tile_runs(const WinogradPlan& wp, int64_t t0, int64_t count, Fn fn) {
  for (int64_t t = t0; t < t0 + count;) {
    const int64_t n = t / wp.tiles, r = t % wp.tiles, th = r / wp.TW, tw = r % wp.TW;
    const int64_t run = std::min(wp.TW - tw, t0 + count - t);
    fn(n, th, tw, run, t - t0);
    t += run;
  }
}

// B^T d B of a run of `run` tiles from tile (th, tw) of image n, every input block, into the
// chunk's transformed inputs v at tile `at`.
void transform_inputs(const WinogradPlan& wp, const float* xb, int64_t n, int64_t th, int64_t tw, int64_t run,
                      int64_t at, float* v) {
  const int L = wp.L;
  const int64_t chunk = wp.gemm.pixels, step = wp.gemm.x_image;
  const float* x = xb + n * wp.x_image + 2 * th * wp.x_row + 2 * tw * L;
  for (int cb = 0; cb < wp.CB; ++cb)
    wp.kernel->winograd_input(x + cb * wp.x_block, wp.x_row, run, v + (cb * chunk + at) * L, step);
}
}  // namespace

namespace {
// Tiles [t0, t1) of the images at xb into yb, a chunk at a time.
void winograd_tiles(const WinogradPlan& wp, int64_t t0, int64_t t1, const float* xb, const float* u, float* yb,
                    float* scratch) {
  const BlockedConvKernel& k = *wp.kernel;
  const BlockedConvPlan& gp = wp.gemm;
  const BlockedConvKernel& gk = *gp.kernel;
  const int L = wp.L;
  const int64_t vstep = gp.x_image, mstep = gp.y_image, chunk = gp.pixels, set = blocked_weight_floats(gp);
  const int64_t group_w = int64_t(gp.CB) * L * gp.G;
  float* const v = scratch;
  float* const m = scratch + kPoints * vstep;
  BlockedConvArgs a;
  a.CB = gp.CB, a.T = 1, a.tap = gp.tap.data(), a.last_lanes = gp.C % L;
  a.x_block = gp.x_block, a.x_pix = gp.x_pix.data(), a.y_block = gp.y_block;
  a.prefetch = gp.x_block;  // as a 1x1 convolution's (blocked_conv.cpp)
  for (int64_t c0 = t0; c0 < t1; c0 += chunk) {
    const int64_t nt = std::min(chunk, t1 - c0);
    tile_runs(wp, c0, nt, [&](int64_t n, int64_t th, int64_t tw, int64_t run, int64_t at) {
      transform_inputs(wp, xb, n, th, tw, run, at, v);
    });
    for (int pt = 0; pt < kPoints; ++pt) {
      a.x = v + pt * vstep;
      for (int64_t grp = 0; grp < gp.MG; ++grp) {
        a.w = u + pt * set + grp * group_w;
        a.y = m + pt * mstep + grp * gk.blocks * gp.y_block;
        gk.forward(a, 0, nt);
      }
    }
    tile_runs(wp, c0, nt, [&](int64_t n, int64_t th, int64_t tw, int64_t run, int64_t at) {
      float* y = yb + n * wp.y_image + 2 * th * wp.y_row + 2 * tw * L;
      for (int mb = 0; mb < wp.MB; ++mb)
        k.winograd_output(m + (mb * chunk + at) * L, mstep, run, y + mb * wp.y_block, wp.y_row);
    });
  }
}
}  // namespace

void winograd_images(const WinogradPlan& wp, int64_t count, const float* xb, const float* u, float* yb,
                     float* scratch) {
  winograd_tiles(wp, 0, count * wp.tiles, xb, u, yb, scratch);
}

// In runs of tiles, not images: inference's large maps come one image per call (VGG-16's 64
// channels at 224x224: one thread idle and the layer 2x slower than the direct kernel). At least
// two runs per thread (ResNet-50 at batch 1: 49 tiles at 14x14), each a whole number of the
// product tile's pixels.
void winograd_run(const WinogradPlan& wp, int64_t N, const float* xb, const float* u, float* yb, float* scratch) {
  const int64_t own = winograd_scratch_floats(wp), total = N * wp.tiles, P = wp.gemm.kernel->tile;
  const int64_t parts = 2 * int64_t(num_threads());
  const int64_t run = std::min(wp.gemm.pixels, std::max<int64_t>(P, ((total + parts - 1) / parts + P - 1) / P * P));
  parallel_for_balanced((total + run - 1) / run, [&](int64_t b, int64_t e, int tid) {
    winograd_tiles(wp, b * run, std::min(total, e * run), xb, u, yb, scratch + tid * own);
  });
}

int64_t winograd_wgrad_floats(const WinogradPlan& wp) { return kPoints * int64_t(wp.gemm.M) * wp.CB * wp.L; }

void winograd_wgrad_tiles(const WinogradPlan& wp, int64_t t0, int64_t t1, const float* xb, const BlockedGradient& dy,
                          float* partial, float* scratch) {
  const BlockedConvKernel& k = *wp.kernel;
  const BlockedConvPlan& gp = wp.gemm;
  const int L = wp.L, GB = (gp.M + L - 1) / L;  // the gradient's blocks
  const int64_t vstep = gp.x_image, gstep = gp.y_image, chunk = gp.pixels, part = int64_t(gp.M) * wp.CB * L;
  const int64_t dy_row = dy.dy_pix[wp.OW] - dy.dy_pix[0];
  float* const v = scratch;
  float* const gt = scratch + kPoints * vstep;
  BlockedWgradArgs a;
  a.CB = gp.CB, a.M = gp.M, a.T = 1, a.tap = gp.tap.data();
  a.x_block = gp.x_block, a.x_pix = gp.x_pix.data();
  a.dy_block = gp.y_block, a.dy_pix = gp.x_pix.data();  // both: tile i at i * lanes
  a.OW = chunk, a.x_step = L;
  for (int64_t c0 = t0; c0 < t1; c0 += chunk) {
    const int64_t nt = std::min(chunk, t1 - c0);
    tile_runs(wp, c0, nt, [&](int64_t n, int64_t th, int64_t tw, int64_t run, int64_t at) {
      transform_inputs(wp, xb, n, th, tw, run, at, v);
      const float* g = dy.dy + n * dy.dy_image + dy.dy_pix[2 * th * wp.OW + 2 * tw];
      for (int mb = 0; mb < GB; ++mb)
        k.winograd_grad(g + mb * dy.dy_block, dy_row, run, gt + (mb * chunk + at) * L, gstep);
    });
    for (int pt = 0; pt < kPoints; ++pt) {
      a.x = v + pt * vstep, a.dy = gt + pt * gstep;
      gp.kernel->wgrad(a, 0, nt, partial + pt * part);
    }
  }
}

void winograd_wgrad_run(const WinogradPlan& wp, int64_t N, const float* xb, const BlockedGradient& dy,
                        float* partials, int units, float* scratch) {
  const int64_t total = N * wp.tiles, part = winograd_wgrad_floats(wp), own = winograd_scratch_floats(wp);
  parallel_for_balanced(units, [&](int64_t b, int64_t e, int tid) {
    for (int64_t u = b; u < e; ++u)
      winograd_wgrad_tiles(wp, total * u / units, total * (u + 1) / units, xb, dy, partials + u * part,
                           scratch + tid * own);
  });
}

namespace {
// out += G^T d G (the weight gradient of one 3x3 kernel from its 16 transformed sums),
// G^T = [1 1/2 1/2 0; 0 1/2 -1/2 0; 0 1/2 1/2 1], in double, rounded once.
void add_kernel_gradient(const float (&d)[kPoints], float* out) {
  double t[3][4];
  for (int j = 0; j < 4; ++j) {
    const double a = d[j], b = d[4 + j], e = d[8 + j], f = d[12 + j];
    t[0][j] = a + 0.5 * (b + e), t[1][j] = 0.5 * (b - e), t[2][j] = 0.5 * (b + e) + f;
  }
  for (int i = 0; i < 3; ++i) {
    const double a = t[i][0], b = t[i][1], e = t[i][2], f = t[i][3];
    out[3 * i] += float(a + 0.5 * (b + e));
    out[3 * i + 1] += float(0.5 * (b - e));
    out[3 * i + 2] += float(0.5 * (b + e) + f);
  }
}
}  // namespace

void add_winograd_wgrad(const WinogradPlan& wp, const float* partials, int units, float* dw) {
  const int M = wp.gemm.M, C = wp.gemm.C;
  const int64_t CBL = int64_t(wp.CB) * wp.L, set = int64_t(M) * CBL, part = winograd_wgrad_floats(wp);
  // In parallel over output channels, each sum in unit order: the same bits as one thread. The
  // sums run along c, kRun channels at a time (a vector loop per unit and position; by (c,
  // position) they were 1% of ResNet-20's step).
  constexpr int64_t kRun = 256;
  parallel_for(M, [&](int64_t m0, int64_t m1, int) {
    float sums[kPoints][kRun];
    for (int64_t m = m0; m < m1; ++m)
      for (int64_t c0 = 0; c0 < C; c0 += kRun) {
        const int64_t n = std::min(kRun, C - c0);
        for (auto& row : sums) std::fill_n(row, n, 0.f);
        for (int u = 0; u < units; ++u)
          for (int k = 0; k < kPoints; ++k) {
            const float* from = partials + u * part + k * set + m * CBL + c0;
            for (int64_t j = 0; j < n; ++j) sums[k][j] += from[j];
          }
        for (int64_t c = c0; c < c0 + n; ++c) {
          float d[kPoints];
          for (int k = 0; k < kPoints; ++k) d[k] = sums[k][c - c0];
          add_kernel_gradient(d, dw + (m * C + c) * 9);
        }
      }
  });
}

}  // namespace cnn
