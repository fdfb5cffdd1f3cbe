// The blocked depthwise kernels (every entry of the blocked-convolution table this CPU can run)
// against the definition of a depthwise convolution, through blocked_depthwise_run with the input
// plain or blocked and the output plain or in another convolution's padded plane.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "core/parallel.h"
#include "core/rng.h"
#include "kernels/blocked_depthwise.h"
#include "isa_levels.h"
#include "blocked_planes.h"
#include "random_values.h"

using namespace cnn;
using cnn::test::random_vec;
using cnn::test::nonzero_border;
using cnn::test::skip_unless_cpu_has;

namespace {

struct Case {
  int C, H, W, K, P, S, D, N;
};

// Output (n, c, oh, ow) of the depthwise convolution of x (N x C x H x W) with w (C x K x K).
double definition(const ConvGeom& g, const std::vector<float>& x, const std::vector<float>& w, int n, int c, int oh,
                  int ow) {
  double s = 0;
  for (int kh = 0; kh < g.KH; ++kh)
    for (int kw = 0; kw < g.KW; ++kw) {
      const int ih = oh * g.SH - g.PH + kh * g.DH, iw = ow * g.SW - g.PW + kw * g.DW;
      if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
      s += double(x[((size_t(n) * g.C + c) * g.H + ih) * g.W + iw]) * w[(size_t(c) * g.KH + kh) * g.KW + kw];
    }
  return s;
}

void check_depthwise(const BlockedConvKernel& k) {
  const std::vector<Case> cases{
      {16, 8, 8, 3, 1, 1, 1, 2},    // one block
      {20, 9, 7, 3, 1, 2, 1, 3},    // a partial block, stride 2, odd map
      {40, 13, 11, 5, 2, 1, 1, 1},  // 5x5
      {9, 6, 10, 3, 2, 1, 2, 2},    // dilation 2
      {24, 1, 1, 3, 1, 1, 1, 4},    // 1x1 maps: every tap but the centre reads the border
      {32, 12, 12, 3, 0, 2, 1, 1},  // no padding
  };
  Rng rng(21);
  const int L = k.lanes;
  for (const Case& c : cases) {
    ConvGeom g;
    g.C = c.C, g.H = c.H, g.W = c.W, g.KH = g.KW = c.K, g.PH = g.PW = c.P, g.SH = g.SW = c.S, g.DH = g.DW = c.D;
    g.finish();
    const BlockedConvPlan p = plan_blocked_conv(g, c.C, k);
    ConvGeom next;  // the reader of the outputs: a padded 3x3 plane
    next.C = c.C, next.H = g.OH, next.W = g.OW, next.KH = next.KW = 3, next.PH = next.PW = 1;
    next.finish();
    const BlockedConvPlan into = plan_blocked_conv(next, c.C, k);
    const std::vector<int64_t> pix = blocked_interior_pixels(into);
    const auto x = random_vec(size_t(c.N) * c.C * c.H * c.W, rng);
    const auto w = random_vec(size_t(c.C) * c.K * c.K, rng);
    auto bias = random_vec(size_t(p.CB * L), rng);
    std::fill(bias.begin() + c.C, bias.end(), 0.f);
    std::vector<float> wp(size_t(blocked_depthwise_weight_floats(p))), xb(size_t(c.N * p.x_image));
    pack_blocked_depthwise_weights(p, w.data(), wp.data());
    pack_blocked_input(p, x.data(), c.N, xb.data());
    std::vector<float> scratch(size_t(num_threads() * blocked_depthwise_scratch_floats(p)));
    for (int mode = 0; mode < 8; ++mode) {
      const bool x_blocked = mode & 1, to_plane = mode & 2, epilogue = mode & 4;
      INFO("C " << c.C << " H " << c.H << " W " << c.W << " k " << c.K << " pad " << c.P << " stride " << c.S
                << " dilation " << c.D << " blocked input " << x_blocked << " into a plane " << to_plane
                << " bias and clamp " << epilogue);
      BlockedOutputTarget target;
      target.plane = &into, target.pix = pix.data();
      std::vector<float> y(size_t(to_plane ? c.N * into.x_image : int64_t(c.N) * c.C * p.pixels), std::nanf(""));
      BlockedDepthwiseIo io;
      io.x = x_blocked ? xb.data() : x.data(), io.x_blocked = x_blocked;
      io.y = y.data(), io.target = to_plane ? &target : nullptr;
      io.bias = epilogue ? bias.data() : nullptr;
      io.clamp = epilogue, io.lo = -0.5f, io.hi = 0.75f;
      io.scratch = scratch.data();
      blocked_depthwise_run(p, c.N, wp.data(), io);
      for (int n = 0; n < c.N; ++n)
        for (int ch = 0; ch < p.CB * L; ++ch)
          for (int oh = 0; oh < g.OH; ++oh)
            for (int ow = 0; ow < g.OW; ++ow) {
              const int64_t i = int64_t(oh) * g.OW + ow;
              if (!to_plane && ch >= c.C) continue;
              const float got = to_plane ? y[size_t(n * into.x_image + (ch / L) * into.x_block + pix[size_t(i)] + ch % L)]
                                         : y[size_t((int64_t(n) * c.C + ch) * p.pixels + i)];
              double want = ch < c.C ? definition(g, x, w, n, ch, oh, ow) : 0.0;  // lanes past C: zeros
              if (epilogue) want = std::clamp(want + bias[size_t(ch)], -0.5, 0.75);
              INFO("n " << n << " channel " << ch << " oh " << oh << " ow " << ow);
              REQUIRE(std::fabs(got - want) <= 1e-5 * (1 + std::fabs(want)));
            }
      if (!to_plane) continue;
      REQUIRE(nonzero_border(into, y, c.N, g.OH, g.OW) == 0);  // the plane's border is zeroed
    }
  }
}

}  // namespace

TEST_CASE("blocked_depthwise: the reference kernel gives the definition") { check_depthwise(kBlockedConvReference); }

TEST_CASE("blocked_depthwise: avx2 kernels give the definition") {
  skip_unless_cpu_has(Isa::avx2);
  for (const BlockedConvKernel* k : cnn::test::blocked_kernels_of(Isa::avx2)) check_depthwise(*k);
}

TEST_CASE("blocked_depthwise: avx512 kernels give the definition") {
  skip_unless_cpu_has(Isa::avx512);
  for (const BlockedConvKernel* k : cnn::test::blocked_kernels_of(Isa::avx512)) check_depthwise(*k);
}
