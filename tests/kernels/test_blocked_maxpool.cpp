// The blocked max-pooling kernels (every entry of the blocked-convolution table this CPU can run)
// against the NCHW naive loop (PyTorch's MaxPool2d: padding never wins, ceil mode, the first of
// equal values, a NaN wins), through blocked_maxpool_run with the input plain or blocked (its
// border written -inf by the packing) and the output plain or in a convolution's padded plane.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
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
using cnn::test::StoredOutputs;
using cnn::test::skip_unless_cpu_has;

namespace {

struct Case {
  int C, H, W, K, P, S, N;
  bool ceil;
};

bool same_value(float a, float b) { return std::isnan(a) ? std::isnan(b) : a == b; }

void check_maxpool(const BlockedConvKernel& k) {
  const std::vector<Case> cases{
      {16, 8, 8, 2, 0, 2, 2, false},     // VGG's 2x2
      {20, 9, 7, 3, 1, 2, 3, false},     // ResNet's 3x3 stride 2 pad 1: a partial block, odd map
      {40, 7, 9, 3, 0, 2, 1, true},      // ceil mode: the last windows reach past the map
      {9, 6, 10, 3, 1, 1, 2, false},     // stride 1
      {24, 1, 1, 3, 1, 1, 2, false},     // 1x1 maps: every tap but the centre is padding
      {32, 11, 11, 2, 1, 2, 1, true},    // padding and ceil mode together
  };
  Rng rng(23);
  const float inf = std::numeric_limits<float>::infinity();
  for (const Case& c : cases) {
    PoolGeom g;
    g.H = c.H, g.W = c.W, g.KH = g.KW = c.K, g.PH = g.PW = c.P, g.SH = g.SW = c.S, g.ceil_mode = c.ceil;
    g.finish();
    const BlockedConvPlan p = plan_blocked_maxpool(g, c.C, k);
    REQUIRE(p.g.OH == g.OH);
    REQUIRE(p.g.OW == g.OW);
    ConvGeom next;  // the reader of the outputs: a padded 3x3 plane
    next.C = c.C, next.H = g.OH, next.W = g.OW, next.KH = next.KW = 3, next.PH = next.PW = 1;
    next.finish();
    const BlockedConvPlan into = plan_blocked_conv(next, c.C, k);
    const std::vector<int64_t> pix = blocked_interior_pixels(into);
    // negative values (a zero border would win), ties, NaNs and infinities
    auto x = random_vec(size_t(c.N) * c.C * c.H * c.W, rng);
    for (size_t i = 0; i < x.size(); ++i) {
      x[i] -= 2.f;
      if (i % 29 == 3) x[i] = std::nanf("");
      if (i % 31 == 5) x[i] = -inf;
      if (i % 37 == 7) x[i] = x[i - 1];
    }
    std::vector<float> want(size_t(c.N) * c.C * g.OH * g.OW);
    const int64_t ip = int64_t(c.H) * c.W, op = int64_t(g.OH) * g.OW;
    for (int64_t q = 0; q < int64_t(c.N) * c.C; ++q)
      maxpool2d_forward_naive(x.data() + q * ip, g, want.data() + q * op, nullptr);
    std::vector<float> xb(size_t(c.N * p.x_image));
    pack_blocked_input(p, x.data(), c.N, xb.data());
    std::vector<float> scratch(size_t(num_threads() * blocked_depthwise_scratch_floats(p)));
    for (int mode = 0; mode < 4; ++mode) {
      const bool x_blocked = mode & 1, to_plane = mode & 2;
      INFO("C " << c.C << " H " << c.H << " W " << c.W << " k " << c.K << " pad " << c.P << " stride " << c.S
                << " ceil " << c.ceil << " blocked input " << x_blocked << " into a plane " << to_plane);
      BlockedOutputTarget target;
      target.plane = &into, target.pix = pix.data();
      std::vector<float> y(size_t(to_plane ? c.N * into.x_image : int64_t(c.N) * c.C * op), 1e30f);
      BlockedDepthwiseIo io;
      io.x = x_blocked ? xb.data() : x.data(), io.x_blocked = x_blocked;
      io.y = y.data(), io.target = to_plane ? &target : nullptr;
      io.scratch = scratch.data();
      blocked_maxpool_run(p, c.N, io);
      const StoredOutputs got{y, to_plane ? &into : nullptr, pix, c.C, op};
      for (int n = 0; n < c.N; ++n)
        for (int ch = 0; ch < c.C; ++ch)
          for (int64_t i = 0; i < op; ++i) {
            const float v = got.at(n, ch, i), w = want[size_t((int64_t(n) * c.C + ch) * op + i)];
            INFO("n " << n << " channel " << ch << " pixel " << i << " got " << v << " want " << w);
            REQUIRE(same_value(v, w));
            REQUIRE(std::signbit(v) == std::signbit(w));
          }
      if (to_plane) REQUIRE(nonzero_border(into, y, c.N, g.OH, g.OW) == 0);  // the reader's border is zeroed
    }
  }
}

}  // namespace

TEST_CASE("blocked_maxpool: the reference kernel gives PyTorch's max pooling") { check_maxpool(kBlockedConvReference); }

TEST_CASE("blocked_maxpool: avx2 kernels give PyTorch's max pooling") {
  skip_unless_cpu_has(Isa::avx2);
  for (const BlockedConvKernel* k : cnn::test::blocked_kernels_of(Isa::avx2)) check_maxpool(*k);
}

TEST_CASE("blocked_maxpool: avx512 kernels give PyTorch's max pooling") {
  skip_unless_cpu_has(Isa::avx512);
  for (const BlockedConvKernel* k : cnn::test::blocked_kernels_of(Isa::avx512)) check_maxpool(*k);
}
