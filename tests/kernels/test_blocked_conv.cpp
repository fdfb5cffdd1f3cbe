// The blocked-convolution kernels (every entry of the table this CPU can run) against the
// convolution's definition: the tile loop (tiles of any windows and of runs of consecutive windows
// at stride 1 and 2, whole or in segments of 4 and 2: rows of 4-48 pixels), the weight gradient
// and the store into a following convolution's padded plane on random blocked planes, and the
// pixel packing both ways. The direct convolution built on them is checked against the definition
// in test_row_conv.cpp (its forward runs in the blocked layout from 8 input channels).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/parallel.h"
#include "core/rng.h"
#include "kernels/blocked_conv.h"
#include "isa_levels.h"
#include "blocked_planes.h"
#include "random_values.h"

using namespace cnn;
using cnn::test::random_vec;
using cnn::test::conv_definition;
using cnn::test::skip_unless_cpu_has;

namespace {

ConvGeom geom(int C, int H, int W, int K, int P, int S) {
  ConvGeom g;
  g.C = C, g.H = H, g.W = W, g.KH = g.KW = K, g.PH = g.PW = P, g.SH = g.SW = S;
  g.finish();
  return g;
}

// The weight gradient of p (dw[m][c][kh][kw] = sum over n, oh, ow of dy[n][m][oh][ow] times the
// input under tap (kh, kw)) with dy packed unpadded (a 1x1 plan over it) and, at stride 1, padded
// as the blocked input gradient packs it.
void check_wgrad(const BlockedConvPlan& p, const std::vector<float>& x, int N, Rng& rng) {
  const ConvGeom& g = p.g;
  const auto dy = random_vec(size_t(N) * p.M * g.OH * g.OW, rng);
  ConvGeom plain;
  plain.C = p.M, plain.H = g.OH, plain.W = g.OW;
  plain.finish();
  std::vector<BlockedConvPlan> dy_plans{plan_blocked_conv(plain, p.M, *p.kernel)};
  if (g.SH == 1 && g.SW == 1) dy_plans.push_back(plan_blocked_conv(backward_data_geometry(g, p.M), g.C, *p.kernel));
  std::vector<float> xb(size_t(N * p.x_image));
  pack_blocked_input(p, x.data(), N, xb.data());
  for (const BlockedConvPlan& d : dy_plans) {
    INFO("dy padded " << d.g.PH);
    std::vector<float> dyb(size_t(N * d.x_image), std::nanf(""));
    pack_blocked_input(d, dy.data(), N, dyb.data());
    const std::vector<int64_t> pix = blocked_interior_pixels(d);
    const int units = blocked_wgrad_units(p, num_threads());
    std::vector<float> partials(size_t(units * blocked_wgrad_floats(p)), 0.f);
    blocked_wgrad_run(p, N, xb.data(), {dyb.data(), d.x_image, d.x_block, pix.data()}, partials.data(), units);
    std::vector<float> dw(size_t(p.M) * g.C * g.KH * g.KW, 0.5f);
    add_blocked_wgrad(p, partials.data(), units, dw.data());
    // The pipelined backward's call: all N images at once into one partial.
    std::vector<float> whole(size_t(blocked_wgrad_floats(p)), 0.f), dw_whole(dw.size(), 0.5f);
    blocked_wgrad_images(p, N, xb.data(), {dyb.data(), d.x_image, d.x_block, pix.data()}, whole.data());
    add_blocked_wgrad(p, whole.data(), 1, dw_whole.data());
    for (int m = 0; m < p.M; ++m)
      for (int c = 0; c < g.C; ++c)
        for (int kh = 0; kh < g.KH; ++kh)
          for (int kw = 0; kw < g.KW; ++kw) {
            double want = 0.5;
            for (int n = 0; n < N; ++n)
              for (int oh = 0; oh < g.OH; ++oh)
                for (int ow = 0; ow < g.OW; ++ow) {
                  const int ih = oh * g.SH - g.PH + kh, iw = ow * g.SW - g.PW + kw;
                  if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                  want += double(dy[((size_t(n) * p.M + m) * g.OH + oh) * g.OW + ow]) *
                          x[((size_t(n) * g.C + c) * g.H + ih) * g.W + iw];
                }
            const size_t at = ((size_t(m) * g.C + c) * g.KH + kh) * g.KW + kw;
            INFO("m " << m << " c " << c << " kh " << kh << " kw " << kw);
            REQUIRE(std::fabs(dw[at] - want) <= 1e-4 * (1 + std::fabs(want)));
            REQUIRE(std::fabs(dw_whole[at] - want) <= 1e-4 * (1 + std::fabs(want)));
          }
  }
}

void check_kernel(const BlockedConvKernel& k) {
  struct Case { ConvGeom g; int M; int N; };
  const std::vector<Case> cases = {
      {geom(16, 32, 32, 3, 1, 1), 16, 2},   // ResNet stage 1: tiles across rows
      {geom(13, 5, 7, 3, 1, 1), 21, 3},     // channels that fill no block, pixels that fill no tile
      {geom(40, 9, 9, 3, 1, 2), 35, 2},     // stride 2, several groups
      {geom(24, 6, 6, 1, 0, 1), 8, 1},      // 1x1, one group half used
      {geom(8, 1, 1, 3, 1, 1), 40, 4},      // 1x1 maps: every tap but the centre reads the border
      {geom(9, 11, 10, 5, 2, 1), 17, 2},    // 5x5
      // short rows (4-16 pixels), tiles of fewer output channels than the weight gradient's 6
      {geom(16, 4, 4, 3, 1, 1), 20, 5},
      {geom(24, 8, 8, 3, 1, 1), 30, 3},
      {geom(8, 14, 14, 3, 1, 1), 13, 2},
      {geom(8, 16, 16, 3, 1, 1), 8, 2},
      {geom(16, 8, 8, 3, 1, 2), 12, 3},     // stride 2: rows of 4, two input rows apart
      // stride-2 runs: whole tiles (rows of 16), pairs (rows of 14, tiles across rows)
      {geom(16, 32, 32, 3, 1, 2), 40, 1},
      {geom(8, 28, 28, 3, 1, 2), 16, 1},
      {geom(8, 48, 48, 3, 1, 1), 16, 2},    // an image past the weight gradient's small items
      // whole four-block groups (AVX-512's 6 x 64 tile): 1x1 with two groups, 3x3 on rows of 7
      {geom(32, 14, 14, 1, 0, 1), 128, 2},
      {geom(16, 7, 7, 3, 1, 1), 64, 2},
      // the weight gradient's tiles of whole input blocks (3 or 4 of them: 48 or 64 input channels
      // and up at 16 lanes) in runs of pixels: images of 16 pixels four to a run (9 images: the
      // last run one), an image of 144 pixels in three runs, input blocks left after the tiles
      {geom(64, 4, 4, 3, 1, 1), 20, 9},
      {geom(72, 12, 12, 3, 1, 1), 13, 2},
      // one tap, input blocks left after the weight gradient's whole tiles (AVX-512: 3 of 4),
      // output channels that fill no block
      {geom(40, 5, 5, 1, 0, 1), 21, 2},
  };
  Rng rng(3);
  for (const Case& c : cases) {
    const ConvGeom& g = c.g;
    INFO("C " << g.C << " H " << g.H << " W " << g.W << " k " << g.KH << " stride " << g.SH << " M " << c.M);
    const BlockedConvPlan p = plan_blocked_conv(g, c.M, k);
    const auto x = random_vec(size_t(c.N) * g.C * g.H * g.W, rng);
    const auto w = random_vec(size_t(c.M) * g.C * g.KH * g.KW, rng);
    std::vector<float> wp(size_t(blocked_weight_floats(p))), xb(size_t(c.N * p.x_image), std::nanf(""));
    std::vector<float> yb(size_t(c.N * p.y_image), std::nanf(""));
    pack_blocked_weights(p, w.data(), wp.data());
    pack_blocked_input(p, x.data(), c.N, xb.data());
    blocked_conv_run(p, c.N, xb.data(), wp.data(), yb.data());
    for (int n = 0; n < c.N; ++n)
      for (int m = 0; m < c.M; ++m)
        for (int oh = 0; oh < g.OH; ++oh)
          for (int ow = 0; ow < g.OW; ++ow) {
            const double want = conv_definition(g, x, w, n, m, oh, ow);
            const float got = yb[size_t(n * p.y_image + (m / p.L) * p.y_block + (int64_t(oh) * g.OW + ow) * p.L + m % p.L)];
            INFO("n " << n << " m " << m << " oh " << oh << " ow " << ow);
            REQUIRE(std::fabs(got - want) <= 1e-4 * (1 + std::fabs(want)));
          }
    check_wgrad(p, x, c.N, rng);
  }
}

// What a store into a target plane adds: a bias (the plane's blocks whole, zeros past M) and a
// residual (N x M x OH x OW, then a NaN tail that the NCHW gather's lane mask keeps out), also
// packed as another plane's interior (padded unlike the target: its own pixel offsets).
struct StoreAddends {
  std::vector<float> bias, res, res_blocked;
  BlockedConvPlan res_plane;
  std::vector<int64_t> res_pix;
};

enum class StoreResidual { none, nchw, blocked };

StoreAddends store_addends(const BlockedConvPlan& plane, int N, Rng& rng) {
  const ConvGeom& g = plane.g;  // its input: the writer's output map
  const int M = plane.C;
  const int64_t P = int64_t(g.H) * g.W;
  StoreAddends a;
  a.bias = random_vec(size_t(plane.CB * plane.L), rng);
  std::fill(a.bias.begin() + M, a.bias.end(), 0.f);
  a.res = random_vec(size_t(N * M * P), rng);
  a.res.resize(size_t((int64_t(N) * M + plane.L) * P), std::nanf(""));
  a.res_plane = plan_blocked_conv(geom(M, g.H, g.W, 5, 2, 1), M, *plane.kernel);
  a.res_blocked.assign(size_t(N * a.res_plane.x_image), std::nanf(""));
  pack_blocked_input(a.res_plane, a.res.data(), N, a.res_blocked.data());
  a.res_pix = blocked_interior_pixels(a.res_plane);
  return a;
}

BlockedResidual store_residual(StoreResidual kind, const StoreAddends& a, int M, int L, int64_t P) {
  if (kind == StoreResidual::nchw) return {a.res.data(), M * P, L * P, P, nullptr, M};
  if (kind == StoreResidual::blocked)
    return {a.res_blocked.data(), a.res_plane.x_image, a.res_plane.x_block, 1, a.res_pix.data(), M};
  return {};
}

constexpr float kGuardValue = -1234.5f;

// out (N target planes, then a guard) after p stored into them through t: each lane of the planes'
// blocks at every output pixel the definition + bias + residual, clamped (past M exactly what the
// zero weights, bias and residual give), the borders zero, the guard untouched.
void check_stored_planes(const BlockedConvPlan& p, int N, const std::vector<float>& x, const std::vector<float>& w,
                         const StoreAddends& a, const BlockedOutputTarget& t, const std::vector<float>& out) {
  const BlockedConvPlan& plane = *t.plane;
  const ConvGeom& g = p.g;
  const int L = plane.L;
  const int64_t P = p.pixels;
  for (int n = 0; n < N; ++n)
    for (int m = 0; m < plane.CB * L; ++m)
      for (int64_t i = 0; i < P; ++i) {
        const int oh = int(i / g.OW), ow = int(i % g.OW);
        double want = m < p.M ? conv_definition(g, x, w, n, m, oh, ow) : 0.0;
        if (t.bias) want += t.bias[m];
        if (t.residual.data && m < p.M) want += a.res[size_t((int64_t(n) * p.M + m) * P + i)];
        if (t.clamp) want = std::clamp(want, double(t.lo), double(t.hi));
        const float got = out[size_t(n * plane.x_image + (m / L) * plane.x_block + t.pix[i] + m % L)];
        INFO("n " << n << " m " << m << " oh " << oh << " ow " << ow);
        if (m < p.M) REQUIRE(std::fabs(got - want) <= 1e-4 * (1 + std::fabs(want)));
        else REQUIRE(got == float(want));
      }
  std::vector<char> interior(size_t(plane.HP * plane.WP), 0);
  for (int64_t i = 0; i < P; ++i) interior[size_t(t.pix[i] / L)] = 1;
  for (int64_t b = 0; b < N * plane.CB; ++b)
    for (size_t q = 0; q < interior.size(); ++q) {
      if (interior[q]) continue;
      INFO("border of image " << b / plane.CB << " block " << b % plane.CB << " at pixel " << q);
      for (int l = 0; l < L; ++l) REQUIRE(out[size_t(b * plane.x_block) + q * size_t(L) + size_t(l)] == 0.f);
    }
  for (size_t j = size_t(N * plane.x_image); j < out.size(); ++j) REQUIRE(out[j] == kGuardValue);
}

// blocked_conv_run with a BlockedOutputTarget: the outputs stored into the padded input plane of a
// following 3x3 convolution (NaN before), plain or + bias, + a residual in either layout, clamped.
void check_target_store(const BlockedConvKernel& k) {
  struct Case { ConvGeom g; int M; int N; };
  const std::vector<Case> cases = {
      {geom(13, 5, 7, 3, 1, 1), 20, 3},  // 8 lanes: 3 blocks, the last group's second not stored
      {geom(24, 9, 9, 3, 1, 2), 35, 1},  // stride 2; a group's block past the plane at 8 and 16 lanes
      {geom(16, 6, 6, 1, 0, 1), 40, 3},  // 1x1
      {geom(8, 4, 4, 3, 1, 1), 12, 1},   // one block of 16 lanes: a two-block group's second not stored
  };
  struct Store { bool bias, clamp; StoreResidual residual; };
  const Store stores[] = {{false, false, StoreResidual::none}, {true, true, StoreResidual::none},
                          {true, true, StoreResidual::nchw}, {true, true, StoreResidual::blocked}};
  Rng rng(11);
  for (const Case& c : cases) {
    const ConvGeom& g = c.g;
    const BlockedConvPlan p = plan_blocked_conv(g, c.M, k);
    const BlockedConvPlan plane = plan_blocked_conv(geom(c.M, g.OH, g.OW, 3, 1, 1), 8, k);
    const std::vector<int64_t> pix = blocked_interior_pixels(plane);
    const auto x = random_vec(size_t(c.N) * g.C * g.H * g.W, rng);
    const auto w = random_vec(size_t(c.M) * g.C * g.KH * g.KW, rng);
    std::vector<float> wp(size_t(blocked_weight_floats(p))), xb(size_t(c.N * p.x_image), std::nanf(""));
    pack_blocked_weights(p, w.data(), wp.data());
    pack_blocked_input(p, x.data(), c.N, xb.data());
    const StoreAddends a = store_addends(plane, c.N, rng);
    for (const Store& s : stores) {
      INFO("C " << g.C << " H " << g.H << " W " << g.W << " k " << g.KH << " stride " << g.SH << " M " << c.M
                << " N " << c.N << " bias " << s.bias << " clamp " << s.clamp << " residual " << int(s.residual));
      BlockedOutputTarget t{&plane, pix.data(), s.bias ? a.bias.data() : nullptr, s.clamp, -1.5f, 2.f,
                            store_residual(s.residual, a, c.M, p.L, p.pixels)};
      std::vector<float> out(size_t(c.N * plane.x_image), std::nanf(""));
      out.resize(out.size() + size_t(k.blocks * plane.x_block), kGuardValue);
      blocked_conv_run(p, c.N, xb.data(), wp.data(), out.data(), &t);
      check_stored_planes(p, c.N, x, w, a, t, out);
    }
  }
}

// A run of W pixels as rows of 3 with 2 pixels of border between them: pixel w's offset (pack_pix).
std::vector<int64_t> padded_rows_pix(int64_t W, int L) {
  std::vector<int64_t> pix(static_cast<size_t>(W));
  for (int64_t w = 0; w < W; ++w) pix[size_t(w)] = ((w / 3) * 5 + w % 3) * L;
  return pix;
}

// The pixel whose lanes hold float i of such a plane, or -1 (a border).
int64_t pixel_of(const std::vector<int64_t>& pix, int64_t i, int L) {
  const auto it = std::find(pix.begin(), pix.end(), i - i % L);
  return it == pix.end() ? -1 : int64_t(it - pix.begin());
}

void check_pixel_packing(const BlockedConvKernel& k) {
  Rng rng(8);
  const int L = k.lanes;
  for (int64_t W : {1, 7, 8, 19, 31, 64})
    for (int count : {1, L / 2 + 1, L}) {
      INFO("W " << W << " channels " << count);
      const auto src = random_vec(size_t(L * W), rng);
      std::vector<const float*> rows(static_cast<size_t>(L));
      for (int l = 0; l < L; ++l) rows[size_t(l)] = src.data() + l * W;
      std::vector<float> px(size_t(L * W), std::nanf(""));
      k.pack_pixels(rows.data(), count, W, px.data(), nullptr);
      for (int64_t w = 0; w < W; ++w)
        for (int l = 0; l < L; ++l) REQUIRE(px[size_t(w * L + l)] == (l < count ? src[size_t(l * W + w)] : 0.f));
      {  // the run as rows of 3 pixels stored with borders between them (pack_pix), the borders untouched
        const std::vector<int64_t> pix = padded_rows_pix(W, L);
        std::vector<float> plane(size_t(pix.back() + 2 * L), -5.f);
        k.pack_pixels(rows.data(), count, W, plane.data(), pix.data());
        for (size_t i = 0; i < plane.size(); ++i) {
          const int64_t w = pixel_of(pix, int64_t(i), L), l = int64_t(i) % L;
          INFO("float " << i);
          REQUIRE(plane[i] == (w < 0 ? -5.f : l < count ? src[size_t(l * W + w)] : 0.f));
        }
      }
      std::vector<float> back(size_t(L * W), -7.f);
      std::vector<float*> out(static_cast<size_t>(L));
      for (int l = 0; l < L; ++l) out[size_t(l)] = back.data() + l * W;
      k.unpack_finish(px.data(), W, count, {}, out.data());
      for (int l = 0; l < L; ++l)
        for (int64_t w = 0; w < W; ++w) REQUIRE(back[size_t(l * W + w)] == (l < count ? src[size_t(l * W + w)] : -7.f));
      BlockedEpilogue add;  // added to what the rows hold
      add.accumulate = true;
      k.unpack_finish(px.data(), W, count, add, out.data());
      for (int l = 0; l < L; ++l)
        for (int64_t w = 0; w < W; ++w) {
          const float v = src[size_t(l * W + w)];
          REQUIRE(back[size_t(l * W + w)] == (l < count ? v + v : -7.f));
        }
      // Through the epilogue: + bias, + residual, clamped (a NaN becomes lo, as in the row kernels),
      // the results summed.
      px[0] = std::nanf("");
      const auto bias = random_vec(size_t(L), rng), res = random_vec(size_t(L * W), rng);
      std::vector<const float*> res_rows(static_cast<size_t>(L));
      for (int l = 0; l < L; ++l) res_rows[size_t(l)] = res.data() + l * W;
      for (bool clamp : {false, true}) {
        std::vector<double> sums(size_t(L * kBlockedSumStride), 0.0);
        const BlockedEpilogue e{bias.data(), res_rows.data(), clamp, -0.25f, 0.5f, sums.data()};
        std::fill(back.begin(), back.end(), -7.f);
        k.unpack_finish(px.data(), W, count, e, out.data());
        for (int l = 0; l < count; ++l) {  // BatchNorm's sums: of the values written, over the lanes
          double want_sum = 0, want_sq = 0, got_sum = 0, got_sq = 0;
          for (int64_t w = 0; w < W; ++w) {
            const double v = back[size_t(l * W + w)];
            want_sum += v, want_sq += v * v;
          }
          for (int j = 0; j < kBlockedSumLanes; ++j) {
            got_sum += sums[size_t(l * kBlockedSumStride + j)];
            got_sq += sums[size_t(l * kBlockedSumStride + kBlockedSumLanes + j)];
          }
          INFO("clamp " << clamp << " sums of channel " << l);
          if (std::isnan(want_sum)) {
            REQUIRE((std::isnan(got_sum) && std::isnan(got_sq)));
            continue;
          }
          REQUIRE(std::fabs(got_sum - want_sum) <= 1e-9 * (1 + std::fabs(want_sum)));
          REQUIRE(std::fabs(got_sq - want_sq) <= 1e-9 * (1 + want_sq));
        }
        for (int l = 0; l < L; ++l)
          for (int64_t w = 0; w < W; ++w) {
            INFO("clamp " << clamp << " channel " << l << " pixel " << w);
            const float got = back[size_t(l * W + w)];
            if (l >= count) {
              REQUIRE(got == -7.f);
              continue;
            }
            float want = px[size_t(w * L + l)] + bias[size_t(l)] + res[size_t(l * W + w)];
            if (clamp) want = want > -0.25f ? (want < 0.5f ? want : 0.5f) : -0.25f;
            REQUIRE(((std::isnan(got) && std::isnan(want)) || got == want));
          }
      }
    }
}

uint32_t bits(float v) {
  uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  return u;
}

// pack_mapped against bn_map_value (the BatchNorm's own scalar arithmetic) bit for bit, both maps with
// and without the ReLU, over random channels of a BatchNorm whose first packed channel is c0.
// NaN, -0 and values the affine map sends to exactly 0 included (the ReLU's select and its mask).
// A product contracted with the next sum into an FMA would round once instead of twice: some of
// the random values would differ.
void check_mapped_packing(const BlockedConvKernel& k) {
  Rng rng(9);
  const int L = k.lanes, c0 = 3;
  std::vector<BnChannel> ch(size_t(c0 + L));
  for (BnChannel& c : ch) {
    c.scale = rng.uniform(-2.f, 2.f), c.shift = rng.uniform(-1.f, 1.f);
    c.k = rng.uniform(0.5f, 2.f), c.mdy = rng.uniform(-0.1f, 0.1f), c.mean = rng.uniform(-1.f, 1.f);
    c.invstd = rng.uniform(0.5f, 3.f), c.mdx = rng.uniform(-0.2f, 0.2f);
  }
  ch[size_t(c0)].scale = 0.5f, ch[size_t(c0)].shift = -1.f;  // x = 2 maps to exactly 0
  for (bool input_grad : {false, true})
    for (bool relu : {false, true})
      for (int64_t W : {1, 7, 8, 19, 31, 64})
        for (int count : {1, L / 2 + 1, L}) {
          INFO((input_grad ? "input gradient" : "normalize") << (relu ? " + ReLU" : "") << ", W " << W
                                                             << " channels " << count);
          auto src = random_vec(size_t(L * W), rng), xs = random_vec(size_t(L * W), rng);
          src[0] = std::nanf(""), xs[1 % size_t(L * W)] = std::nanf("");
          if (W > 2) src[2] = -0.f, src[size_t(W - 1)] = 2.f, xs[2] = 2.f;
          std::vector<const float*> rows(static_cast<size_t>(L)), xrows(static_cast<size_t>(L));
          for (int l = 0; l < L; ++l) rows[size_t(l)] = src.data() + l * W, xrows[size_t(l)] = xs.data() + l * W;
          const BnPackMap map{ch.data(), relu, input_grad, xs.data()};
          std::vector<float> px(size_t(L * W), 7.f);
          k.pack_mapped(rows.data(), xrows.data(), count, W, px.data(), nullptr, map, c0);
          const std::vector<int64_t> pix = padded_rows_pix(W, L);
          std::vector<float> plane(size_t(pix.back() + 2 * L), -5.f);
          k.pack_mapped(rows.data(), xrows.data(), count, W, plane.data(), pix.data(), map, c0);
          for (int l = 0; l < L; ++l) {
            for (int64_t w = 0; w < W; ++w) {
              const size_t at = size_t(l * W + w);
              const float want = l < count ? bn_map_value(map, c0 + l, src[at], xs[at]) : 0.f;
              REQUIRE(bits(px[size_t(w * L + l)]) == bits(want));
              REQUIRE(bits(plane[size_t(pix[size_t(w)] + l)]) == bits(want));
            }
          }
          for (size_t i = 0; i < plane.size(); ++i)
            if (pixel_of(pix, int64_t(i), L) < 0) REQUIRE(plane[i] == -5.f);
        }
}

// grad_sums against plane_grad_sums and plane_grad_sums_relu (the BatchNorm's scalar code) bit for
// bit, on planes that end inside a vector and a partial-sum lane; NaN, values the affine map sends
// to exactly 0 included. A product contracted into an FMA would change some of them.
void check_grad_sums(const BlockedConvKernel& k) {
  Rng rng(10);
  const BnChannel relu{0.5f, -1.f};  // x = 2 maps to exactly 0: masked
  for (bool with_relu : {false, true})
    for (int64_t n : {1, 7, 16, 17, 33, 100, 1024}) {
      INFO((with_relu ? "relu" : "plain") << ", " << n << " values");
      auto x = random_vec(size_t(n), rng), dy = random_vec(size_t(n), rng);
      x[0] = 2.f;
      if (n > 5) dy[5] = std::nanf(""), x[3] = std::nanf("");
      const float mean = rng.uniform(-0.5f, 0.5f);
      float a = 0, b = 0, want_a = 0, want_b = 0;
      k.grad_sums(x.data(), dy.data(), n, mean, with_relu ? &relu : nullptr, a, b);
      if (with_relu) plane_grad_sums_relu(x.data(), dy.data(), n, mean, relu.scale, relu.shift, want_a, want_b);
      else plane_grad_sums(x.data(), dy.data(), n, mean, want_a, want_b);
      REQUIRE(((std::isnan(a) && std::isnan(want_a)) || a == want_a));
      REQUIRE(((std::isnan(b) && std::isnan(want_b)) || b == want_b));
      if (n > 5) dy[5] = 1.f, x[3] = 1.f;  // no NaN: every bit
      k.grad_sums(x.data(), dy.data(), n, mean, with_relu ? &relu : nullptr, a, b);
      if (with_relu) plane_grad_sums_relu(x.data(), dy.data(), n, mean, relu.scale, relu.shift, want_a, want_b);
      else plane_grad_sums(x.data(), dy.data(), n, mean, want_a, want_b);
      REQUIRE(a == want_a);
      REQUIRE(b == want_b);
    }
}

// unpack_finish with a BatchNorm's backward sums (BlockedEpilogue::grad): the rows of a plain
// unpack (also with streamed stores), and for each channel the bits plane_grad_sums(_relu) give for
// its x and row; whole planes of kStatLanes multiples (summed as the vectors pass) and others
// (summed from the rows after).
void check_unpack_grad_sums(const BlockedConvKernel& k) {
  Rng rng(11);
  const int L = k.lanes;
  for (int64_t W : {16, 48, 64, 7, 19, 40})
    for (int count : {1, L / 2 + 1, L})
      for (bool relu : {false, true})
        for (bool stream : {false, true}) {
          INFO("W " << W << " channels " << count << (relu ? " relu" : "") << (stream ? " streamed" : ""));
          const auto px = random_vec(size_t(L * W), rng), x = random_vec(size_t(L * W), rng);
          std::vector<BnChannel> channels(static_cast<size_t>(L));
          for (BnChannel& c : channels) c.scale = rng.uniform(0.5f, 2.f), c.shift = rng.uniform(-0.5f, 0.5f), c.mean = rng.uniform(-0.5f, 0.5f);
          std::vector<const float*> xrows(static_cast<size_t>(L));
          for (int l = 0; l < L; ++l) xrows[size_t(l)] = x.data() + l * W;
          std::vector<float> plain(size_t(L * W), -7.f), got(plain), sums(size_t(2 * L), std::nanf(""));
          std::vector<float*> plain_rows(static_cast<size_t>(L)), rows(static_cast<size_t>(L));
          for (int l = 0; l < L; ++l) plain_rows[size_t(l)] = plain.data() + l * W, rows[size_t(l)] = got.data() + l * W;
          k.unpack_finish(px.data(), W, count, {}, plain_rows.data());
          const BlockedGradSums grad{xrows.data(), channels.data(), relu, sums.data()};
          BlockedEpilogue e;
          e.grad = &grad, e.stream = stream;
          k.unpack_finish(px.data(), W, count, e, rows.data());
          REQUIRE(got == plain);
          for (int l = 0; l < count; ++l) {
            const BnChannel& c = channels[size_t(l)];
            float want_a = 0, want_b = 0;
            if (relu) plane_grad_sums_relu(xrows[size_t(l)], rows[size_t(l)], W, c.mean, c.scale, c.shift, want_a, want_b);
            else plane_grad_sums(xrows[size_t(l)], rows[size_t(l)], W, c.mean, want_a, want_b);
            INFO("channel " << l);
            REQUIRE(sums[size_t(2 * l)] == want_a);
            REQUIRE(sums[size_t(2 * l + 1)] == want_b);
          }
        }
}

}  // namespace

TEST_CASE("blocked_conv: the table lists every ISA, the naive reference last") {
  auto all = blocked_conv_kernels();
  REQUIRE(all.size() == 6);
  REQUIRE(all.back().name == "reference");
  REQUIRE(all.back().isa == Isa::generic);
  for (const BlockedConvKernel& k : all) {
    INFO(k.name << " with " << k.blocks << " blocks");
    if (k.isa == Isa::generic) continue;
    REQUIRE(&blocked_conv_kernel(k.isa, k.blocks * k.lanes, 1) == &k);  // one block: the one-block tile
  }
  REQUIRE(blocked_conv_kernel(Isa::avx2, 16).blocks == 2);
  REQUIRE(blocked_conv_kernel(Isa::avx2, 8).blocks == 1);
  REQUIRE(blocked_conv_kernel(Isa::avx2, 64).blocks == 2);
  REQUIRE(blocked_conv_kernel(Isa::avx512, 16).blocks == 1);
  REQUIRE(blocked_conv_kernel(Isa::avx512, 17).blocks == 2);
  REQUIRE(blocked_conv_kernel(Isa::avx512, 32).blocks == 2);
  // four blocks: 1x1 convolutions whose output channels they divide
  REQUIRE(blocked_conv_kernel(Isa::avx512, 96, 1).blocks == 2);  // a four-block group would compute 128
  REQUIRE(blocked_conv_kernel(Isa::avx512, 64, 1).blocks == 4);
  REQUIRE(blocked_conv_kernel(Isa::avx512, 2048, 1).blocks == 4);
  REQUIRE(blocked_conv_kernel(Isa::avx512, 64, 9).blocks == 2);
  REQUIRE(blocked_conv_kernel(Isa::avx512, 64).blocks == 2);
  REQUIRE(&blocked_conv_kernel(Isa::generic, 64) == &kBlockedConvReference);
}

TEST_CASE("blocked_conv: the reference kernel gives the definition") {
  check_kernel(kBlockedConvReference);
  check_target_store(kBlockedConvReference);
  check_pixel_packing(kBlockedConvReference);
  check_mapped_packing(kBlockedConvReference);
  check_grad_sums(kBlockedConvReference);
  check_unpack_grad_sums(kBlockedConvReference);
}

namespace {
// Every kernel of the table for `isa`, against the definition.
void check_kernels_of(Isa isa) {
  skip_unless_cpu_has(isa);
  const auto kernels = cnn::test::blocked_kernels_of(isa);
  REQUIRE(kernels.size() >= 2);
  for (const BlockedConvKernel* k : kernels) {
    INFO(k->blocks << " blocks");
    check_kernel(*k);
    check_target_store(*k);
    check_pixel_packing(*k);
    check_mapped_packing(*k);
    check_grad_sums(*k);
    check_unpack_grad_sums(*k);
  }
}
}  // namespace

TEST_CASE("blocked_conv: avx2 kernels give the definition") { check_kernels_of(Isa::avx2); }

TEST_CASE("blocked_conv: avx512 kernels give the definition") { check_kernels_of(Isa::avx512); }
