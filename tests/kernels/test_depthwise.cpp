// Direct depthwise convolution kernels against naive loops (the definition), over kernel sizes,
// strides, paddings (asymmetric too), dilations, multipliers and plane widths around the SIMD
// width; and the batch drivers against the plane kernels at 1, 2 and 3 threads.
#include <algorithm>
#include <catch2/catch.hpp>

#include "isa_levels.h"
#include <cmath>
#include <limits>
#include <vector>

#include "core/parallel.h"
#include "../thread_guard.h"
#include "core/rng.h"
#include "kernels/depthwise.h"

using namespace cnn;
using cnn::test::ThreadGuard;

namespace {

ConvGeom geom(int H, int W, int KH, int KW, int SH, int SW, int PH, int PW, int DH, int DW, int PH_end = -1,
              int PW_end = -1) {
  ConvGeom g;
  g.C = 1, g.H = H, g.W = W, g.KH = KH, g.KW = KW, g.SH = SH, g.SW = SW, g.PH = PH, g.PW = PW, g.DH = DH, g.DW = DW;
  g.PH_end = PH_end, g.PW_end = PW_end;
  g.finish();
  return g;
}

std::vector<float> rand_vec(size_t n, Rng& rng) {
  std::vector<float> v(n);
  for (auto& x : v) x = rng.uniform(-1.f, 1.f);
  return v;
}

// The definition, in double: y[j, oh, ow] = b[j] + sum w[j, ki, kj] x[oh*SH - PH + ki*DH, ow*SW - PW + kj*DW].
struct Ref {
  std::vector<double> y, dx, dw;
};
Ref reference(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& b,
              const std::vector<float>& dy, const ConvGeom& g, int m) {
  Ref r;
  const size_t KK = size_t(g.KH) * g.KW, P = size_t(g.OH) * g.OW;
  r.y.assign(m * P, 0.0), r.dx.assign(size_t(g.H) * g.W, 0.0), r.dw.assign(m * KK, 0.0);
  for (int j = 0; j < m; ++j)
    for (int oh = 0; oh < g.OH; ++oh)
      for (int ow = 0; ow < g.OW; ++ow) {
        const size_t o = j * P + size_t(oh) * g.OW + ow;
        double s = b.empty() ? 0.0 : b[size_t(j)];
        for (int ki = 0; ki < g.KH; ++ki)
          for (int kj = 0; kj < g.KW; ++kj) {
            const int ih = oh * g.SH - g.PH + ki * g.DH, iw = ow * g.SW - g.PW + kj * g.DW;
            if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
            const size_t xi = size_t(ih) * g.W + iw, wi = j * KK + size_t(ki) * g.KW + kj;
            s += double(w[wi]) * x[xi];
            r.dx[xi] += double(w[wi]) * dy[o];
            r.dw[wi] += double(x[xi]) * dy[o];
          }
        r.y[o] = s;
      }
  return r;
}

template <class T>
void expect_close(const char* what, const std::vector<float>& got, const std::vector<T>& want, double tol = 2e-5) {
  REQUIRE(got.size() == want.size());
  double scale = 1e-3;
  for (auto v : want) scale = std::max(scale, std::abs(double(v)));
  int bad = 0;
  size_t first = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::abs(double(got[i]) - double(want[i])) <= tol * scale) && bad++ == 0) first = i;
  INFO(what << ": " << bad << " of " << got.size() << " wrong, first at " << first << " (got " << got[first]
            << ", want " << double(want[first]) << ")");
  CHECK(bad == 0);
}

void check_plane(const ConvGeom& g, int m, bool bias, uint64_t seed) {
  INFO("H=" << g.H << " W=" << g.W << " k=" << g.KH << "x" << g.KW << " s=" << g.SH << "," << g.SW << " p=" << g.PH
            << "," << g.PW << " pend=" << g.PH_end << "," << g.PW_end << " d=" << g.DH << "," << g.DW << " m=" << m
            << " -> " << g.OH << "x" << g.OW);
  Rng rng(seed);
  const size_t KK = size_t(g.KH) * g.KW, P = size_t(g.OH) * g.OW;
  auto x = rand_vec(size_t(g.H) * g.W, rng), w = rand_vec(m * KK, rng), dy = rand_vec(m * P, rng);
  std::vector<float> b = bias ? rand_vec(size_t(m), rng) : std::vector<float>{};
  const Ref r = reference(x, w, b, dy, g, m);
  std::vector<float> ws(depthwise_workspace_floats(g, m));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // Outputs are followed by guard values that must survive (no stores past the plane).
  const size_t guard = 40;
  std::vector<float> y(m * P + guard, nan), dx(x.size() + guard, nan), dw0 = rand_vec(m * KK, rng), dw = dw0;
  std::fill(y.end() - guard, y.end(), 7.f), std::fill(dx.end() - guard, dx.end(), 7.f);
  depthwise_forward_plane(x.data(), w.data(), bias ? b.data() : nullptr, g, m, y.data(), ws.data());
  depthwise_backward_data_plane(dy.data(), w.data(), g, m, dx.data(), ws.data());
  CHECK(std::count(y.end() - guard, y.end(), 7.f) == long(guard));
  CHECK(std::count(dx.end() - guard, dx.end(), 7.f) == long(guard));
  y.resize(y.size() - guard), dx.resize(dx.size() - guard);
  expect_close("forward", y, r.y);
  expect_close("backward data", dx, r.dx);
  depthwise_backward_weight_plane(x.data(), dy.data(), g, m, dw.data(), ws.data());
  std::vector<double> want_dw(dw0.size());
  for (size_t i = 0; i < dw0.size(); ++i) want_dw[i] = r.dw[i] + dw0[i];  // accumulates
  expect_close("backward weight", dw, want_dw);
}

}  // namespace

TEST_CASE("depthwise: 3x3 planes, stride 1 and 2, padding 0..2, widths around the SIMD width", "[kernels][depthwise]") {
  cnn::test::for_each_isa([&] {
    // Both the copy-free 3x3 path (AVX-512; AVX2 forward, where compiled in) and the general path.
    for (bool simd : {true, false}) {
      depthwise_set_simd3x3(simd);
      uint64_t seed = 1;
      for (int W : {1, 2, 3, 7, 8, 9, 14, 15, 16, 17, 28, 31, 32, 33, 56, 64, 65, 112})
        for (int S : {1, 2})
          for (int P : {0, 1, 2})
            for (int m : {1, 2}) {
              const ConvGeom g = geom(W % 5 + 3, W, 3, 3, S, S, P, P, 1, 1);
              if (g.OH <= 0 || g.OW <= 0 || (m == 2 && W % 3)) continue;
              INFO("simd3x3 " << simd);
              check_plane(g, m, seed % 2 == 0, seed);
              ++seed;
            }
    }
    depthwise_set_simd3x3(true);
  });
}

TEST_CASE("depthwise: general kernels, strides, dilations, asymmetric padding, multipliers", "[kernels][depthwise]") {
  cnn::test::for_each_isa([&] {
    uint64_t seed = 100;
    struct G {
      int H, W, KH, KW, SH, SW, PH, PW, DH, DW, PH_end, PW_end, m;
    };
    const G cases[] = {
        {9, 9, 5, 5, 1, 1, 2, 2, 1, 1, -1, -1, 1},    {12, 12, 5, 5, 1, 1, 4, 4, 2, 2, -1, -1, 1},
        {11, 13, 5, 5, 2, 2, 2, 2, 1, 1, -1, -1, 1},  {10, 10, 7, 7, 1, 1, 3, 3, 1, 1, -1, -1, 1},
        {9, 20, 3, 3, 3, 3, 1, 1, 1, 1, -1, -1, 1},   {8, 8, 1, 1, 1, 1, 0, 0, 1, 1, -1, -1, 1},
        {8, 9, 1, 1, 2, 2, 0, 0, 1, 1, -1, -1, 1},    {7, 7, 3, 3, 1, 1, 1, 1, 1, 1, -1, -1, 2},
        {9, 10, 3, 3, 2, 2, 1, 1, 1, 1, -1, -1, 3},   {7, 18, 3, 5, 1, 2, 1, 2, 2, 1, -1, -1, 1},
        {6, 6, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1, 1},      {6, 7, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0, 2},
        {5, 5, 3, 3, 1, 1, 4, 4, 1, 1, -1, -1, 1},    {4, 4, 2, 2, 2, 2, 3, 3, 1, 1, -1, -1, 1},
        {20, 40, 3, 3, 1, 1, 2, 2, 2, 2, -1, -1, 1},  {20, 40, 3, 3, 2, 2, 2, 2, 2, 2, -1, -1, 1},
        {13, 13, 3, 3, 2, 3, 1, 1, 3, 2, -1, -1, 2},  {3, 3, 3, 3, 1, 1, 0, 0, 1, 1, -1, -1, 1},
        {1, 1, 3, 3, 1, 1, 1, 1, 1, 1, -1, -1, 1},    {9, 33, 4, 4, 2, 2, 1, 1, 1, 1, -1, -1, 1},
        {8, 30, 11, 11, 1, 1, 5, 5, 1, 1, -1, -1, 1}, {10, 70, 3, 3, 1, 4, 1, 1, 1, 1, -1, -1, 1},
    };
    for (const G& c : cases) {
      const ConvGeom g = geom(c.H, c.W, c.KH, c.KW, c.SH, c.SW, c.PH, c.PW, c.DH, c.DW, c.PH_end, c.PW_end);
      REQUIRE(g.OH > 0);
      REQUIRE(g.OW > 0);
      check_plane(g, c.m, seed % 2 == 1, seed);
      ++seed;
    }
  });
}

TEST_CASE("depthwise: batch drivers match the plane kernels at 1, 2 and 3 threads", "[kernels][depthwise]") {
  cnn::test::for_each_isa([&] {
    struct B {
      int64_t N;
      int C, m, H, W, K, S, P, D;
    };
    for (const B& c : {B{1, 1, 1, 9, 9, 3, 1, 1, 1}, B{2, 5, 1, 12, 17, 3, 2, 1, 1}, B{5, 3, 2, 8, 8, 5, 1, 4, 2},
                       B{4, 8, 1, 20, 20, 3, 1, 1, 1}}) {
      const ConvGeom g = geom(c.H, c.W, c.K, c.K, c.S, c.S, c.P, c.P, c.D, c.D);
      const int64_t KK = int64_t(c.K) * c.K, in_plane = int64_t(c.H) * c.W, out_plane = int64_t(g.OH) * g.OW;
      Rng rng(uint64_t(c.N * 100 + c.C));
      auto x = rand_vec(size_t(c.N * c.C * in_plane), rng), w = rand_vec(size_t(c.C * c.m * KK), rng);
      auto b = rand_vec(size_t(c.C * c.m), rng), dy = rand_vec(size_t(c.N * c.C * c.m * out_plane), rng);
      // Expected, plane by plane.
      std::vector<float> ws(depthwise_workspace_floats(g, c.m));
      std::vector<float> y0(dy.size()), dx0(x.size()), dw0(w.size(), 0.f);
      for (int64_t p = 0; p < c.N * c.C; ++p) {
        const int64_t ch = p % c.C;
        const float* dyp = dy.data() + p * c.m * out_plane;
        depthwise_forward_plane(x.data() + p * in_plane, w.data() + ch * c.m * KK, b.data() + ch * c.m, g, c.m,
                                y0.data() + p * c.m * out_plane, ws.data());
        depthwise_backward_data_plane(dyp, w.data() + ch * c.m * KK, g, c.m, dx0.data() + p * in_plane, ws.data());
        depthwise_backward_weight_plane(x.data() + p * in_plane, dyp, g, c.m, dw0.data() + ch * c.m * KK, ws.data());
      }
      for (int threads : {1, 2, 3}) {
        ThreadGuard tg(threads);
        INFO("N=" << c.N << " C=" << c.C << " m=" << c.m << " threads=" << threads);
        std::vector<float> y(dy.size()), dx(x.size()), dw(w.size(), 0.f);
        depthwise_forward(x.data(), w.data(), b.data(), g, c.N, c.C, c.m, y.data());
        depthwise_backward(x.data(), dy.data(), w.data(), g, c.N, c.C, c.m, dx.data(), dw.data());
        CHECK(y == y0);
        CHECK(dx == dx0);
        expect_close("dw", dw, dw0, 1e-6);
        std::vector<float> dw2(w.size(), 0.f);
        depthwise_backward(x.data(), dy.data(), w.data(), g, c.N, c.C, c.m, nullptr, dw2.data());
        CHECK(dw2 == dw);
      }
    }
  });
}
