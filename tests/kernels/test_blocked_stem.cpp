// The blocked stem convolution (every entry of the blocked-convolution table this CPU can run)
// against the convolution's definition, through blocked_stem_run with the outputs NCHW (bias and
// clamp on the way) or in another convolution's padded plane.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "core/parallel.h"
#include "core/rng.h"
#include "kernels/blocked_stem.h"
#include "isa_levels.h"
#include "blocked_planes.h"
#include "random_values.h"

using namespace cnn;
using cnn::test::random_vec;
using cnn::test::conv_definition;
using cnn::test::nonzero_border;
using cnn::test::StoredOutputs;
using cnn::test::skip_unless_cpu_has;

namespace {

struct Case {
  int C, H, W, K, P, S, D, M, N;
};

void check_stem(const BlockedConvKernel& k) {
  const std::vector<Case> cases{
      {3, 32, 32, 3, 1, 1, 1, 16, 2},   // ResNet-20's stem: 27 values, one output block
      {3, 23, 21, 3, 1, 2, 1, 32, 3},   // MobileNet's: stride 2, odd map
      {1, 9, 14, 5, 2, 1, 1, 20, 1},    // one channel, 5x5, a partial output block
      {4, 10, 9, 2, 0, 2, 1, 40, 2},    // 4 channels, even kernel, no padding
      {2, 11, 12, 3, 2, 1, 2, 8, 2},    // dilation 2
      {3, 1, 1, 3, 1, 1, 1, 24, 3},     // 1x1 maps: every value but the centre is padding
      {3, 19, 22, 7, 3, 2, 1, 64, 2},   // ResNet-50's 7x7 stride-2 stem
      {3, 6, 5, 7, 3, 2, 1, 40, 1},     // a map smaller than the window
  };
  Rng rng(31);
  const int L = k.lanes;
  for (const Case& c : cases) {
    ConvGeom g;
    g.C = c.C, g.H = c.H, g.W = c.W, g.KH = g.KW = c.K, g.PH = g.PW = c.P, g.SH = g.SW = c.S, g.DH = g.DW = c.D;
    g.finish();
    REQUIRE(blocked_stem_suits(g));
    const BlockedStemPlan planned = plan_blocked_stem(g, c.M, k);
    ConvGeom next;  // the reader of the outputs: a padded 3x3 plane
    next.C = c.M, next.H = g.OH, next.W = g.OW, next.KH = next.KW = 3, next.PH = next.PW = 1;
    next.finish();
    const BlockedConvPlan into = plan_blocked_conv(next, c.M, k);
    const std::vector<int64_t> pix = blocked_interior_pixels(into);
    const auto x = random_vec(size_t(c.N) * c.C * c.H * c.W, rng);
    const auto w = random_vec(size_t(c.M) * c.C * c.K * c.K, rng);
    auto bias = random_vec(size_t(into.CB * L), rng);
    std::fill(bias.begin() + c.M, bias.end(), 0.f);
    std::vector<float> wp(size_t(blocked_stem_weight_floats(planned)));
    pack_blocked_stem_weights(planned, w.data(), wp.data());
    for (int rows : {planned.rows, 1, 2}) {  // the planned chunks, single rows, and chunks that do not divide OH
      const BlockedStemPlan p = plan_blocked_stem(g, c.M, k, rows);
      std::vector<float> scratch(size_t(num_threads() * blocked_stem_scratch_floats(p)));
      for (int to_plane = 0; to_plane < 2; ++to_plane) {
        INFO("C " << c.C << " H " << c.H << " W " << c.W << " k " << c.K << " pad " << c.P << " stride " << c.S
                  << " dilation " << c.D << " M " << c.M << " rows per chunk " << p.rows << " into a plane " << to_plane);
        BlockedOutputTarget target;
        target.plane = &into, target.pix = pix.data(), target.bias = bias.data();
        target.clamp = true, target.lo = -0.5f, target.hi = 0.75f;
        const int64_t OP = int64_t(g.OH) * g.OW;
        std::vector<float> y(size_t(to_plane ? c.N * into.x_image : c.N * c.M * OP), std::nanf(""));
        BlockedStemIo io;
        io.x = x.data(), io.y = y.data(), io.target = to_plane ? &target : nullptr;
        io.bias = bias.data(), io.clamp = true, io.lo = -0.5f, io.hi = 0.75f;
        io.scratch = scratch.data();
        blocked_stem_run(p, c.N, wp.data(), io);
        const StoredOutputs got{y, to_plane ? &into : nullptr, pix, c.M, OP};
        for (int n = 0; n < c.N; ++n)
          for (int m = 0; m < (to_plane ? into.CB * L : c.M); ++m)
            for (int64_t i = 0; i < OP; ++i) {
              const int oh = int(i / g.OW), ow = int(i % g.OW);
              const double want =
                  std::clamp((m < c.M ? conv_definition(g, x, w, n, m, oh, ow) : 0.0) + bias[size_t(m)], -0.5, 0.75);
              INFO("n " << n << " channel " << m << " oh " << oh << " ow " << ow);
              REQUIRE(std::fabs(got.at(n, m, i) - want) <= 1e-5 * (1 + std::fabs(want)));
            }
        if (to_plane) REQUIRE(nonzero_border(into, y, c.N, g.OH, g.OW) == 0);  // the plane's border is zeroed
      }
    }
  }
}

}  // namespace

TEST_CASE("blocked_stem: the reference kernel gives the definition") { check_stem(kBlockedConvReference); }

TEST_CASE("blocked_stem: avx2 kernels give the definition") {
  skip_unless_cpu_has(Isa::avx2);
  for (const BlockedConvKernel* k : cnn::test::blocked_kernels_of(Isa::avx2)) check_stem(*k);
}

TEST_CASE("blocked_stem: avx512 kernels give the definition") {
  skip_unless_cpu_has(Isa::avx512);
  for (const BlockedConvKernel* k : cnn::test::blocked_kernels_of(Isa::avx512)) check_stem(*k);
}
