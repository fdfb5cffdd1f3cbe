// Winograd F(2x2, 3x3) (kernels/winograd_conv.h) with every blocked-kernel entry this CPU can run
// (the transforms and the 1x1 products are the entry's, the reference's last): the transforms
// against B^T d B, A g A^T and A^T m A in double; the convolution, the input gradient (flipped
// weights) and the weight gradient against their definitions; the same bits from one image at a
// time, all at once and the threads' split. The training passes built on it are checked in test_row_conv.cpp.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "core/parallel.h"
#include "core/rng.h"
#include "kernels/winograd_conv.h"
#include "blocked_planes.h"
#include "isa_levels.h"
#include "random_values.h"

using namespace cnn;
using cnn::test::conv_definition;
using cnn::test::random_vec;
using cnn::test::skip_unless_cpu_has;

namespace {

ConvGeom geom3x3(int C, int H, int W) {
  ConvGeom g;
  g.C = C, g.H = H, g.W = W, g.KH = g.KW = 3, g.PH = g.PW = 1;
  g.finish();
  return g;
}

// The transforms' matrices (B^T, A for the gradient, A^T), applied in double.
constexpr double kBt[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
constexpr double kA[4][2] = {{1, 0}, {1, 1}, {1, -1}, {0, -1}};
constexpr double kAt[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};

// For each of `count` tiles and L lanes: got(j, l, a, b) = sum over i, c of T[a][i] in(j, l, i, c)
// T[b][c] (an R x K matrix T on both sides of a K x K input).
template <int R, int K, class In, class Got>
void require_transform(const double (&T)[R][K], int64_t count, int L, In in, Got got, const char* what) {
  for (int64_t j = 0; j < count; ++j)
    for (int l = 0; l < L; ++l)
      for (int a = 0; a < R; ++a)
        for (int b = 0; b < R; ++b) {
          double want = 0;
          for (int i = 0; i < K; ++i)
            for (int c = 0; c < K; ++c) want += T[a][i] * in(j, l, i, c) * T[b][c];
          INFO(what << " tile " << j << " lane " << l << " at " << a << "," << b);
          REQUIRE(std::fabs(got(j, l, a, b) - want) <= 1e-6 * (1 + std::fabs(want)));
        }
}

void check_transforms(const BlockedConvKernel& k, Rng& rng) {
  const int L = k.lanes;
  const int64_t count = 3, row = (2 * count + 2 + 1) * L, step = count * L + 5;  // a wider row, odd step
  // The 16 transformed vectors of tile j, lane l, point (a, b) in v.
  auto point = [&](const std::vector<float>& v) {
    return [&v, L, step](int64_t j, int l, int a, int b) { return v[size_t((4 * a + b) * step + j * L + l)]; };
  };
  // Pixel (i, c) of tile j's window (2x2 steps along the row), lane l, in x.
  auto pixel = [&](const std::vector<float>& x) {
    return [&x, L, row](int64_t j, int l, int i, int c) { return double(x[size_t(i * row + (2 * j + c) * L + l)]); };
  };
  const auto x = random_vec(size_t(4 * row), rng);
  std::vector<float> v(size_t(16 * step), std::nanf(""));
  k.winograd_input(x.data(), row, count, v.data(), step);
  require_transform(kBt, count, L, pixel(x), point(v), "input");
  const auto dy = random_vec(size_t(2 * row), rng);
  std::vector<float> gv(size_t(16 * step), std::nanf(""));
  k.winograd_grad(dy.data(), row, count, gv.data(), step);
  require_transform(kA, count, L, pixel(dy), point(gv), "gradient");
  const auto m = random_vec(size_t(16 * step), rng);
  const int64_t yrow = 2 * count * L + 3;
  std::vector<float> y(size_t(2 * yrow), std::nanf(""));
  k.winograd_output(m.data(), step, count, y.data(), yrow);
  const auto mp = point(m);
  require_transform(kAt, count, L, [&](int64_t j, int l, int i, int c) { return double(mp(j, l, i, c)); },
                    [&](int64_t j, int l, int a, int b) { return y[size_t(a * yrow + (2 * j + b) * L + l)]; }, "output");
}

// Images one at a time, all at once and in parallel: the same bits.
std::vector<float> run_all_ways(const WinogradPlan& wp, int N, int64_t out_image, const std::vector<float>& xb,
                                const std::vector<float>& u) {
  std::vector<float> scratch(size_t(winograd_scratch_floats(wp)) * size_t(num_threads()), std::nanf(""));
  std::vector<float> whole(size_t(N * out_image), std::nanf("")), single(whole.size(), std::nanf(""));
  std::vector<float> parallel(whole.size(), std::nanf(""));
  winograd_images(wp, N, xb.data(), u.data(), whole.data(), scratch.data());
  for (int n = 0; n < N; ++n)
    winograd_images(wp, 1, xb.data() + n * wp.x_image, u.data(), single.data() + n * out_image, scratch.data());
  winograd_run(wp, N, xb.data(), u.data(), parallel.data(), scratch.data());
  for (size_t i = 0; i < whole.size(); ++i) {
    if (std::isnan(whole[i]) && std::isnan(single[i])) continue;  // blocks past the output channels
    INFO("output float " << i);
    REQUIRE(single[i] == whole[i]);
    REQUIRE(parallel[i] == whole[i]);
  }
  return whole;
}

void check_convolution(const BlockedConvKernel& k) {
  struct Case { int C, H, W, M, N; };
  const std::vector<Case> cases = {
      {64, 8, 8, 64, 3},     // whole blocks (AVX-512: the four-block product tile), 16 tiles an image
      {72, 10, 12, 80, 3},   // partial blocks, chunks of tiles across images
      {130, 2, 2, 64, 5},    // one tile an image, three input blocks the last nearly empty
      {64, 4, 18, 96, 2},    // rows of 9 tiles, two-block groups
      {32, 16, 16, 32, 2},   // ResNet-20's second stage (32 channels: the rule's bound)
      {128, 6, 6, 32, 2},    // few outputs from many inputs (DenseNet's 3x3 layers)
  };
  Rng rng(17);
  for (const Case& c : cases) {
    INFO("C " << c.C << " H " << c.H << " W " << c.W << " M " << c.M << " N " << c.N);
    const ConvGeom g = geom3x3(c.C, c.H, c.W);
    REQUIRE(winograd_suits(g, c.M));
    const BlockedConvPlan p = plan_blocked_conv(g, c.M, k);
    const WinogradPlan wp = plan_winograd(p);
    const auto x = random_vec(size_t(c.N) * c.C * c.H * c.W, rng);
    const auto w = random_vec(size_t(c.M) * c.C * 9, rng);
    std::vector<float> xb(size_t(c.N * p.x_image)), u(size_t(winograd_weight_floats(wp)));
    pack_blocked_input(p, x.data(), c.N, xb.data());
    pack_winograd_weights(wp, w.data(), u.data());
    const std::vector<float> y = run_all_ways(wp, c.N, p.y_image, xb, u);
    for (int n = 0; n < c.N; ++n)
      for (int m = 0; m < c.M; ++m)
        for (int oh = 0; oh < g.OH; ++oh)
          for (int ow = 0; ow < g.OW; ++ow) {
            const double want = conv_definition(g, x, w, n, m, oh, ow);
            const float got = y[size_t(n * p.y_image + (m / p.L) * p.y_block + (int64_t(oh) * g.OW + ow) * p.L + m % p.L)];
            INFO("n " << n << " m " << m << " oh " << oh << " ow " << ow);
            REQUIRE(std::fabs(got - want) <= 1e-4 * (1 + std::fabs(want)));
          }
    // The input gradient: the output gradient (M channels) padded as the blocked input gradient
    // packs it, the forward's weights flipped: dx[c] = sum over m, taps of dy[m] w[m][c][reversed tap].
    const BlockedConvPlan d = plan_blocked_conv(backward_data_geometry(g, c.M), c.C, k);
    REQUIRE(winograd_suits(d.g, c.C));
    const WinogradPlan wd = plan_winograd(d);
    const auto dy = random_vec(size_t(c.N) * c.M * g.OH * g.OW, rng);
    std::vector<float> dyb(size_t(c.N * d.x_image)), ud(size_t(winograd_weight_floats(wd)));
    pack_blocked_input(d, dy.data(), c.N, dyb.data());
    pack_winograd_weights(wd, w.data(), ud.data(), true);
    const std::vector<float> dx = run_all_ways(wd, c.N, d.y_image, dyb, ud);
    std::vector<float> flipped(w.size());  // C x M x 3 x 3
    for (int m = 0; m < c.M; ++m)
      for (int ch = 0; ch < c.C; ++ch)
        for (int t = 0; t < 9; ++t) flipped[(size_t(ch) * c.M + m) * 9 + t] = w[(size_t(m) * c.C + ch) * 9 + 8 - t];
    for (int n = 0; n < c.N; ++n)
      for (int ch = 0; ch < c.C; ++ch)
        for (int h = 0; h < g.H; ++h)
          for (int ww = 0; ww < g.W; ++ww) {
            const double want = conv_definition(d.g, dy, flipped, n, ch, h, ww);
            const float got = dx[size_t(n * d.y_image + (ch / d.L) * d.y_block + (int64_t(h) * g.W + ww) * d.L + ch % d.L)];
            INFO("dx n " << n << " c " << ch << " h " << h << " w " << ww);
            REQUIRE(std::fabs(got - want) <= 1e-4 * (1 + std::fabs(want)));
          }
  }
}

// The weight gradient with dy packed as the blocked input gradient packs it (padded), against
// dw[m][c][kh][kw] = sum over n, oh, ow of dy[n][m][oh][ow] x[n][c][oh - 1 + kh][ow - 1 + kw]:
// in 3 units and in one call over all tiles (the pipelined backward's), each onto 0.5.
void check_weight_gradient(const BlockedConvKernel& k, Rng& rng) {
  struct Case { int C, H, W, M, N; };
  const std::vector<Case> cases = {{64, 8, 8, 64, 3}, {72, 10, 12, 80, 3}, {130, 2, 2, 64, 5}, {32, 16, 16, 32, 2},
                                   {40, 6, 6, 32, 3}};
  for (const Case& c : cases) {
    INFO("weight gradient: C " << c.C << " H " << c.H << " W " << c.W << " M " << c.M << " N " << c.N);
    const ConvGeom g = geom3x3(c.C, c.H, c.W);
    const BlockedConvPlan p = plan_blocked_conv(g, c.M, k), d = plan_blocked_conv(backward_data_geometry(g, c.M), c.C, k);
    const WinogradPlan wp = plan_winograd(p);
    const auto x = random_vec(size_t(c.N) * c.C * c.H * c.W, rng);
    const auto dy = random_vec(size_t(c.N) * c.M * g.OH * g.OW, rng);
    std::vector<float> xb(size_t(c.N * p.x_image)), dyb(size_t(c.N * d.x_image));
    pack_blocked_input(p, x.data(), c.N, xb.data());
    pack_blocked_input(d, dy.data(), c.N, dyb.data());
    const std::vector<int64_t> pix = blocked_interior_pixels(d);
    const BlockedGradient bg{dyb.data(), d.x_image, d.x_block, pix.data()};
    const int units = 3;
    const int64_t part = winograd_wgrad_floats(wp);
    std::vector<float> partials(size_t(units * part), 0.f), whole(size_t(part), 0.f);
    std::vector<float> scratch(size_t(winograd_scratch_floats(wp)) * size_t(num_threads()));
    winograd_wgrad_run(wp, c.N, xb.data(), bg, partials.data(), units, scratch.data());
    winograd_wgrad_tiles(wp, 0, c.N * wp.tiles, xb.data(), bg, whole.data(), scratch.data());
    std::vector<float> dw(size_t(c.M) * c.C * 9, 0.5f), dw_whole(dw.size(), 0.5f);
    add_winograd_wgrad(wp, partials.data(), units, dw.data());
    add_winograd_wgrad(wp, whole.data(), 1, dw_whole.data());
    for (int m = 0; m < c.M; ++m)
      for (int ch = 0; ch < c.C; ++ch)
        for (int t = 0; t < 9; ++t) {
          double want = 0.5;
          for (int n = 0; n < c.N; ++n)
            for (int oh = 0; oh < g.OH; ++oh)
              for (int ow = 0; ow < g.OW; ++ow) {
                const int ih = oh - 1 + t / 3, iw = ow - 1 + t % 3;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                want += double(dy[((size_t(n) * c.M + m) * g.OH + oh) * g.OW + ow]) *
                        x[((size_t(n) * c.C + ch) * g.H + ih) * g.W + iw];
              }
          const size_t at = (size_t(m) * c.C + ch) * 9 + size_t(t);
          INFO("m " << m << " c " << ch << " tap " << t);
          REQUIRE(std::fabs(dw[at] - want) <= 1e-4 * (1 + std::fabs(want)));
          REQUIRE(std::fabs(dw_whole[at] - want) <= 1e-4 * (1 + std::fabs(want)));
        }
  }
}

void check_entry(const BlockedConvKernel& k) {
  Rng rng(9);
  check_transforms(k, rng);
  check_convolution(k);
  check_weight_gradient(k, rng);
}

}  // namespace

TEST_CASE("winograd: which convolutions it takes") {
  REQUIRE(winograd_suits(geom3x3(64, 32, 32), 64));
  REQUIRE(winograd_suits(geom3x3(512, 4, 4), 512));
  REQUIRE(!winograd_suits(geom3x3(64, 7, 7), 64));   // an odd map
  REQUIRE(winograd_suits(geom3x3(32, 16, 16), 32));   // ResNet-20's second stage
  REQUIRE(winograd_suits(geom3x3(128, 16, 16), 32));  // DenseNet's 3x3 layers
  REQUIRE(!winograd_suits(geom3x3(16, 16, 16), 64));  // few input channels
  REQUIRE(!winograd_suits(geom3x3(64, 16, 16), 16));  // few output channels
  // Inference: from 128 input channels, 64 output channels and 128 tiles.
  REQUIRE(winograd_suits_inference(geom3x3(128, 16, 16), 64, 2));
  REQUIRE(!winograd_suits_inference(geom3x3(128, 16, 16), 32, 2));
  REQUIRE(!winograd_suits_inference(geom3x3(64, 16, 16), 64, 2));
  REQUIRE(!winograd_suits_inference(geom3x3(128, 8, 8), 64, 7));  // 112 tiles
  ConvGeom g = geom3x3(64, 16, 16);
  g.SH = g.SW = 2;
  g.finish();
  REQUIRE(!winograd_suits(g, 64));  // stride 2
  g = geom3x3(64, 16, 16);
  g.PH = g.PW = 0;
  g.finish();
  REQUIRE(!winograd_suits(g, 64));  // no padding
  g = geom3x3(64, 16, 16);
  g.KH = g.KW = 5, g.PH = g.PW = 2;
  g.finish();
  REQUIRE(!winograd_suits(g, 64));  // 5x5
}

TEST_CASE("winograd: the reference entry gives the definition") { check_entry(kBlockedConvReference); }

TEST_CASE("winograd: avx2 entries give the definition") {
  skip_unless_cpu_has(Isa::avx2);
  for (const BlockedConvKernel* k : cnn::test::blocked_kernels_of(Isa::avx2)) check_entry(*k);
}

TEST_CASE("winograd: avx512 entries give the definition") {
  skip_unless_cpu_has(Isa::avx512);
  for (const BlockedConvKernel* k : cnn::test::blocked_kernels_of(Isa::avx512)) check_entry(*k);
}
