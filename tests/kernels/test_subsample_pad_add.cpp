// The option-A shortcut's fused pass (every entry of the blocked-convolution table this CPU can
// run) against its definition, clamp(subsample_pad(x) + r), with each of x, r and y NCHW or in a
// convolution's padded plane (y's border filled).
#include <algorithm>
#include <catch2/catch.hpp>
#include <vector>

#include "core/parallel.h"
#include "core/rng.h"
#include "kernels/subsample_pad_add.h"
#include "isa_levels.h"
#include "blocked_planes.h"
#include "random_values.h"

using namespace cnn;
using cnn::test::random_vec;
using cnn::test::nonzero_border;
using cnn::test::StoredOutputs;
using cnn::test::skip_unless_cpu_has;

namespace {

struct Case {
  int C, H, W, M, S, N;
};

// A 3x3 pad-1 convolution's input plane of C channels over an H x W map: where the tensor goes
// when it is handed over blocked.
BlockedConvPlan plane_of(int C, int H, int W, const BlockedConvKernel& k) {
  ConvGeom g;
  g.C = C, g.H = H, g.W = W, g.KH = g.KW = 3, g.PH = g.PW = 1;
  g.finish();
  return plan_blocked_conv(g, C, k);
}

// A tensor of N images stored NCHW or in `plane` (its border zero), from NCHW values.
std::vector<float> stored(const std::vector<float>& v, const BlockedConvPlan* plane, const std::vector<int64_t>& pix,
                          int N, int C, int64_t pixels) {
  if (!plane) return v;
  std::vector<float> out(size_t(N * plane->x_image), 0.f);
  const int L = plane->L;
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c)
      for (int64_t i = 0; i < pixels; ++i)
        out[size_t(n * plane->x_image + c / L * plane->x_block + pix[size_t(i)] + c % L)] =
            v[size_t((int64_t(n) * C + c) * pixels + i)];
  return out;
}

void check_subsample_pad_add(const BlockedConvKernel& k) {
  const std::vector<Case> cases{
      {16, 32, 32, 32, 2, 2},  // ResNet-20's first downsampling: 8 channels of padding either side
      {32, 16, 16, 64, 2, 1},  // its second: 16
      {12, 9, 7, 20, 2, 3},    // 4 either side, odd map, a partial output block
      {6, 5, 6, 10, 1, 2},     // stride 1, channels padded only
      {16, 1, 1, 24, 2, 2},    // a 1x1 map
  };
  Rng rng(41);
  for (const Case& c : cases) {
    const int before = (c.M - c.C) / 2;
    const SubsamplePadAddPlan p = plan_subsample_pad_add(c.C, c.H, c.W, c.M, before, c.S, k);
    const int64_t HW = int64_t(c.H) * c.W, OP = int64_t(p.OH) * p.OW;
    const auto x = random_vec(size_t(c.N) * c.C * HW, rng), r = random_vec(size_t(c.N) * c.M * OP, rng);
    const BlockedConvPlan x_plane = plane_of(c.C, c.H, c.W, k), y_plane = plane_of(c.M, p.OH, p.OW, k);
    const std::vector<int64_t> x_pix = blocked_interior_pixels(x_plane), y_pix = blocked_interior_pixels(y_plane);
    std::vector<float> scratch(size_t(num_threads() * subsample_pad_add_scratch_floats(p)));
    for (int layouts = 0; layouts < 8; ++layouts) {
      const bool x_blocked = layouts & 1, r_blocked = layouts & 2, y_blocked = layouts & 4;
      INFO("C " << c.C << " H " << c.H << " W " << c.W << " M " << c.M << " stride " << c.S << " blocked: x "
                << x_blocked << " residual " << r_blocked << " output " << y_blocked);
      const std::vector<float> xs = stored(x, x_blocked ? &x_plane : nullptr, x_pix, c.N, c.C, HW);
      const std::vector<float> rs = stored(r, r_blocked ? &y_plane : nullptr, y_pix, c.N, c.M, OP);
      std::vector<float> y(size_t(y_blocked ? c.N * y_plane.x_image : c.N * c.M * OP), 7.f);
      SubsamplePadAddIo io;
      io.x = xs.data(), io.x_layout = {x_blocked ? &x_plane : nullptr, x_pix.data()};
      io.r = rs.data(), io.r_layout = {r_blocked ? &y_plane : nullptr, y_pix.data()};
      io.y = y.data(), io.y_layout = {y_blocked ? &y_plane : nullptr, y_pix.data()};
      io.clamp = true, io.lo = -0.5f, io.hi = 0.75f;
      io.scratch = scratch.data();
      subsample_pad_add_run(p, c.N, io);
      const StoredOutputs got{y, y_blocked ? &y_plane : nullptr, y_pix, c.M, OP};
      for (int n = 0; n < c.N; ++n)
        for (int m = 0; m < c.M; ++m)
          for (int64_t i = 0; i < OP; ++i) {
            const int64_t oh = i / p.OW, ow = i % p.OW, ci = m - before;
            const float sub = ci < 0 || ci >= c.C ? 0.f : x[size_t((n * c.C + ci) * HW + oh * c.S * c.W + ow * c.S)];
            const float want = std::clamp(sub + r[size_t((int64_t(n) * c.M + m) * OP + i)], -0.5f, 0.75f);
            INFO("n " << n << " channel " << m << " pixel " << i);
            REQUIRE(got.at(n, m, i) == want);  // one addition and a clamp: the same bits
          }
      if (y_blocked) REQUIRE(nonzero_border(y_plane, y, c.N, p.OH, p.OW) == 0);
    }
  }
}

}  // namespace

TEST_CASE("subsample_pad_add: the reference kernel gives the definition") {
  check_subsample_pad_add(kBlockedConvReference);
}

TEST_CASE("subsample_pad_add: avx2 kernels give the definition") {
  skip_unless_cpu_has(Isa::avx2);
  for (const BlockedConvKernel* k : cnn::test::blocked_kernels_of(Isa::avx2)) check_subsample_pad_add(*k);
}

TEST_CASE("subsample_pad_add: avx512 kernels give the definition") {
  skip_unless_cpu_has(Isa::avx512);
  for (const BlockedConvKernel* k : cnn::test::blocked_kernels_of(Isa::avx512)) check_subsample_pad_add(*k);
}
