// Max / average pooling against direct loops with PyTorch's semantics (padding, ceil mode,
// count_include_pad), and pool_output_size against sizes computed by PyTorch.
#include <catch2/catch.hpp>

#include "isa_levels.h"
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "core/rng.h"
#include "kernels/pool.h"

using namespace cnn;

namespace {

struct SizeCase {
  int in, k, s, p;
  bool ceil;
  int out;  // torch.nn.functional.max_pool2d / avg_pool2d output size (torch 1.13)
};
const SizeCase kSizes[] = {
    {5, 2, 2, 1, false, 3},  {5, 2, 2, 1, true, 3},   {6, 3, 2, 0, false, 2},  {6, 3, 2, 0, true, 3},
    {7, 3, 2, 1, false, 4},  {7, 3, 2, 1, true, 4},   {8, 3, 2, 1, false, 4},  {8, 3, 2, 1, true, 5},
    {4, 3, 3, 1, false, 2},  {4, 3, 3, 1, true, 2},   {5, 3, 3, 0, false, 1},  {5, 3, 3, 0, true, 2},
    {9, 4, 3, 2, false, 4},  {9, 4, 3, 2, true, 4},   {10, 3, 3, 1, false, 4}, {10, 3, 3, 1, true, 4},
    {2, 2, 2, 1, false, 2},  {2, 2, 2, 1, true, 2},   {1, 1, 1, 0, false, 1},  {1, 1, 1, 0, true, 1},
    {3, 3, 2, 1, false, 2},  {3, 3, 2, 1, true, 2},   {14, 3, 2, 0, false, 6}, {14, 3, 2, 0, true, 7},
    {13, 3, 2, 0, false, 6}, {13, 3, 2, 0, true, 6},  {6, 2, 4, 0, false, 2},  {6, 2, 4, 0, true, 2},
};

PoolGeom geom(int H, int W, int KH, int KW, int SH, int SW, int PH, int PW, bool ceil, bool cip = true) {
  PoolGeom g;
  g.H = H, g.W = W, g.KH = KH, g.KW = KW, g.SH = SH, g.SW = SW, g.PH = PH, g.PW = PW;
  g.ceil_mode = ceil;
  g.count_include_pad = cip;
  g.finish();
  return g;
}

// Direct max pooling: first maximum in row-major window order.
void ref_max(const std::vector<float>& x, const PoolGeom& g, std::vector<float>& y, std::vector<int>& arg) {
  y.assign(size_t(g.OH) * g.OW, 0.f);
  arg.assign(y.size(), -1);
  for (int oh = 0; oh < g.OH; ++oh)
    for (int ow = 0; ow < g.OW; ++ow) {
      float best = -std::numeric_limits<float>::infinity();
      int at = -1;
      for (int i = 0; i < g.KH; ++i)
        for (int j = 0; j < g.KW; ++j) {
          int h = oh * g.SH - g.PH + i, w = ow * g.SW - g.PW + j;
          if (h < 0 || h >= g.H || w < 0 || w >= g.W) continue;
          if (at < 0 || x[size_t(h) * g.W + w] > best) best = x[size_t(h) * g.W + w], at = h * g.W + w;
        }
      y[size_t(oh) * g.OW + ow] = best;
      arg[size_t(oh) * g.OW + ow] = at;
    }
}

// Average pooling as PyTorch defines it: the window is clipped to the padded input
// (H + 2p, so ceil-mode windows hanging past the padding do not count), its size is the divisor
// with count_include_pad, else the number of real input cells.
double ref_div(const PoolGeom& g, int oh, int ow) {
  int h0 = oh * g.SH - g.PH, w0 = ow * g.SW - g.PW;
  int h1 = std::min(h0 + g.KH, g.H + g.PH), w1 = std::min(w0 + g.KW, g.W + g.PW);
  if (g.count_include_pad) return double(h1 - h0) * (w1 - w0);
  int n = 0;
  for (int h = h0; h < h1; ++h)
    for (int w = w0; w < w1; ++w) n += (h >= 0 && h < g.H && w >= 0 && w < g.W);
  return n;
}

std::vector<float> rand_vec(size_t n, Rng& rng) {
  std::vector<float> v(n);
  for (auto& x : v) x = rng.uniform(-1.f, 1.f);
  return v;
}

std::vector<PoolGeom> geoms(bool cip) {
  std::vector<PoolGeom> v;
  for (bool ceil : {false, true}) {
    v.push_back(geom(6, 6, 2, 2, 2, 2, 0, 0, ceil, cip));
    v.push_back(geom(7, 7, 3, 3, 2, 2, 1, 1, ceil, cip));
    v.push_back(geom(8, 5, 3, 3, 2, 2, 1, 1, ceil, cip));
    v.push_back(geom(5, 5, 2, 2, 2, 2, 1, 1, ceil, cip));
    v.push_back(geom(9, 7, 3, 2, 2, 3, 1, 1, ceil, cip));  // non-square kernel and stride
    v.push_back(geom(6, 9, 4, 4, 3, 3, 2, 2, ceil, cip));
    v.push_back(geom(13, 13, 3, 3, 2, 2, 0, 0, ceil, cip));
    v.push_back(geom(14, 14, 3, 3, 2, 2, 0, 0, ceil, cip));
    v.push_back(geom(5, 6, 3, 3, 1, 1, 1, 1, ceil, cip));  // overlapping windows
    v.push_back(geom(6, 6, 2, 2, 4, 4, 0, 0, ceil, cip));  // stride > kernel: gaps
  }
  return v;
}

}  // namespace

TEST_CASE("pool_output_size matches PyTorch", "[kernels][pool]") {
  for (const auto& c : kSizes) {
    INFO("in=" << c.in << " k=" << c.k << " s=" << c.s << " p=" << c.p << " ceil=" << c.ceil);
    CHECK(pool_output_size(c.in, c.k, c.s, c.p, c.ceil) == c.out);
  }
  PoolGeom g = geom(7, 14, 3, 3, 2, 2, 1, 0, true);
  CHECK(g.OH == 4);
  CHECK(g.OW == 7);
  // A window larger than the input: PyTorch computes 0 in floor mode (and refuses), 1 in ceil mode.
  CHECK(pool_output_size(3, 5, 5, 0, false) <= 0);
  CHECK(pool_output_size(3, 5, 5, 0, true) == 1);
  CHECK(pool_output_size(2, 4, 1, 0, false) <= 0);
  CHECK(pool_output_size(1, 3, 2, 0, true) <= 0);  // span + s - 1 < 0
}

TEST_CASE("maxpool2d forward and backward match direct loops", "[kernels][pool]") {
  cnn::test::for_each_isa([&] {
    Rng rng(11);
    for (const PoolGeom& g : geoms(true)) {
      INFO("H=" << g.H << " W=" << g.W << " k=" << g.KH << "x" << g.KW << " s=" << g.SH << "," << g.SW << " p=" << g.PH
                << "," << g.PW << " ceil=" << g.ceil_mode);
      auto x = rand_vec(size_t(g.H) * g.W, rng);
      std::vector<float> ry;
      std::vector<int> rarg;
      ref_max(x, g, ry, rarg);
      std::vector<float> y(ry.size(), 99.f);
      std::vector<int32_t> arg(ry.size(), -7);
      maxpool2d_forward(x.data(), g, y.data(), arg.data());
      CHECK(y == ry);
      CHECK(std::vector<int>(arg.begin(), arg.end()) == rarg);

      auto dy = rand_vec(y.size(), rng);
      std::vector<float> dx(x.size(), 55.f);  // overwritten
      maxpool2d_backward(dy.data(), arg.data(), g, dx.data());
      std::vector<double> rdx(x.size(), 0.0);
      for (size_t i = 0; i < dy.size(); ++i) rdx[size_t(rarg[i])] += dy[i];
      int bad = 0;
      for (size_t i = 0; i < x.size(); ++i)
        if (std::abs(dx[i] - rdx[i]) > 1e-6) ++bad;
      CHECK(bad == 0);
    }
  });
}

TEST_CASE("maxpool2d: first maximum on ties, NaN propagates", "[kernels][pool]") {
  cnn::test::for_each_isa([&] {
    PoolGeom g = geom(4, 4, 2, 2, 2, 2, 0, 0, false);
    std::vector<float> x(16, 1.f);
    std::vector<float> y(4);
    std::vector<int32_t> arg(4);
    maxpool2d_forward(x.data(), g, y.data(), arg.data());
    CHECK(std::vector<int32_t>(arg.begin(), arg.end()) == std::vector<int32_t>{0, 2, 8, 10});
    // Ties inside a window with padding: the first real cell.
    PoolGeom gp = geom(3, 3, 3, 3, 2, 2, 1, 1, false);
    std::vector<float> c(9, -2.f);
    std::vector<float> yp(size_t(gp.OH) * gp.OW);
    std::vector<int32_t> ap(yp.size());
    maxpool2d_forward(c.data(), gp, yp.data(), ap.data());
    CHECK(yp[0] == -2.f);  // padding is not a zero candidate
    CHECK(std::vector<int32_t>(ap.begin(), ap.end()) == std::vector<int32_t>{0, 1, 3, 4});  // as PyTorch
    // NaN in a window wins (like PyTorch).
    x[5] = std::nanf("");
    maxpool2d_forward(x.data(), g, y.data(), arg.data());
    CHECK(std::isnan(y[0]));
    CHECK(arg[0] == 5);
    CHECK(y[1] == 1.f);
    // All -inf: the output is -inf and the gradient still lands inside the window.
    std::vector<float> ninf(16, -std::numeric_limits<float>::infinity());
    maxpool2d_forward(ninf.data(), g, y.data(), arg.data());
    CHECK(y[3] == -std::numeric_limits<float>::infinity());
    CHECK(arg[3] == 10);
  });
}

TEST_CASE("avgpool2d forward and backward match direct loops", "[kernels][pool]") {
  cnn::test::for_each_isa([&] {
    Rng rng(12);
    for (bool cip : {true, false}) {
      for (const PoolGeom& g : geoms(cip)) {
        INFO("H=" << g.H << " W=" << g.W << " k=" << g.KH << "x" << g.KW << " s=" << g.SH << "," << g.SW << " p="
                  << g.PH << "," << g.PW << " ceil=" << g.ceil_mode << " count_include_pad=" << cip);
        auto x = rand_vec(size_t(g.H) * g.W, rng);
        std::vector<float> y(size_t(g.OH) * g.OW, 99.f);
        avgpool2d_forward(x.data(), g, y.data());
        auto dy = rand_vec(y.size(), rng);
        std::vector<float> dx(x.size(), 55.f);
        avgpool2d_backward(dy.data(), g, dx.data());
        std::vector<double> rdx(x.size(), 0.0);
        int bad_y = 0;
        for (int oh = 0; oh < g.OH; ++oh)
          for (int ow = 0; ow < g.OW; ++ow) {
            const double div = ref_div(g, oh, ow);
            double s = 0;
            for (int i = 0; i < g.KH; ++i)
              for (int j = 0; j < g.KW; ++j) {
                int h = oh * g.SH - g.PH + i, w = ow * g.SW - g.PW + j;
                if (h < 0 || h >= g.H || w < 0 || w >= g.W) continue;
                s += x[size_t(h) * g.W + w];
                rdx[size_t(h) * g.W + w] += dy[size_t(oh) * g.OW + ow] / div;
              }
            if (std::abs(y[size_t(oh) * g.OW + ow] - s / div) > 1e-6) ++bad_y;
          }
        CHECK(bad_y == 0);
        int bad = 0;
        for (size_t i = 0; i < x.size(); ++i)
          if (std::abs(dx[i] - rdx[i]) > 1e-6) ++bad;
        CHECK(bad == 0);
      }
    }
  });
}

TEST_CASE("avgpool2d: padding and ceil-mode divisors by hand", "[kernels][pool]") {
  // 3x3 ones, k=2, s=2, p=1: every window holds exactly one real cell... or more.
  std::vector<float> x(9, 1.f);
  PoolGeom g = geom(3, 3, 2, 2, 2, 2, 1, 1, false, true);
  REQUIRE(g.OH == 2);
  std::vector<float> y(4);
  avgpool2d_forward(x.data(), g, y.data());
  // Window (0,0) covers rows -1..0, cols -1..0: one real cell of four.
  CHECK(y[0] == Approx(0.25));
  CHECK(y[3] == Approx(1.0));  // rows 1..2, cols 1..2: all real
  g = geom(3, 3, 2, 2, 2, 2, 1, 1, false, false);
  avgpool2d_forward(x.data(), g, y.data());
  for (float v : y) CHECK(v == Approx(1.0));
  // Ceil mode: 4 wide, k=3, s=2, no padding -> windows at 0 and 2; the second hangs past the
  // input and is averaged over its 2 real columns even with count_include_pad.
  std::vector<float> row{1, 2, 3, 4};
  PoolGeom c = geom(1, 4, 1, 3, 1, 2, 0, 0, true, true);
  REQUIRE(c.OW == 2);
  std::vector<float> yc(2);
  avgpool2d_forward(row.data(), c, yc.data());
  CHECK(yc[0] == Approx(2.0));
  CHECK(yc[1] == Approx(3.5));
}

TEST_CASE("maxpool2d 2x2 vector path: ties pick the first maximum, NaN propagates", "[kernels][pool]") {
  cnn::test::for_each_isa([&] {
    // Wide rows so the 8-wide path runs, values from {0, 1, 2} so ties are everywhere.
    Rng rng(5);
    for (int W : {16, 17, 34, 40}) {
      PoolGeom g = geom(6, W, 2, 2, 2, 2, 0, 0, false);
      std::vector<float> x(size_t(6) * W);
      for (auto& v : x) v = float(rng.below(3));
      std::vector<float> y(size_t(g.OH) * g.OW), ry;
      std::vector<int32_t> arg(y.size());
      std::vector<int> rarg;
      maxpool2d_forward(x.data(), g, y.data(), arg.data());
      ref_max(x, g, ry, rarg);
      for (size_t i = 0; i < y.size(); ++i) {
        INFO("W=" << W << " output " << i);
        CHECK(y[i] == ry[i]);
        CHECK(arg[i] == rarg[i]);
      }
      x[size_t(3) * W + 5] = std::numeric_limits<float>::quiet_NaN();  // window (1, 2)
      maxpool2d_forward(x.data(), g, y.data(), arg.data());
      CHECK(std::isnan(y[size_t(1) * g.OW + 2]));
      CHECK(arg[size_t(1) * g.OW + 2] == 3 * W + 5);
      CHECK(!std::isnan(y[0]));
    }
  });
}

namespace {

// The geometries of the zoo's pools (ResNet stem 3x3 s2 p1, Inception's 3x3 s1 p1, VGG's 2x2 s2,
// GoogLeNet/AlexNet/SqueezeNet's 3x3 s2 ceil) at widths around the vector widths, then random ones.
std::vector<PoolGeom> kernel_geoms(Rng& rng, bool cip) {
  std::vector<PoolGeom> v;
  for (int W : {7, 8, 15, 16, 17, 33, 56, 57}) {
    v.push_back(geom(W + 3, W, 3, 3, 2, 2, 1, 1, false, cip));
    v.push_back(geom(W, W, 3, 3, 1, 1, 1, 1, false, cip));
    v.push_back(geom(W, W + 1, 2, 2, 2, 2, 0, 0, false, cip));
    v.push_back(geom(W, W, 3, 3, 2, 2, 0, 0, true, cip));
    v.push_back(geom(W, W, 2, 2, 2, 2, 0, 0, true, cip));
  }
  while (v.size() < 300) {
    const int KH = 1 + int(rng.below(4)), KW = 1 + int(rng.below(5));
    PoolGeom g = geom(1 + int(rng.below(20)), 1 + int(rng.below(40)), KH, KW, 1 + int(rng.below(3)),
                      1 + int(rng.below(4)), int(rng.below(uint64_t(KH / 2 + 1))), int(rng.below(uint64_t(KW / 2 + 1))),
                      rng.below(2) == 1, cip);
    if (g.OH > 0 && g.OW > 0) v.push_back(g);
  }
  return v;
}

// Inputs that make ties (few distinct values), -inf-only windows, +-0 and NaN likely.
std::vector<float> tricky_vec(size_t n, Rng& rng, int kind) {
  std::vector<float> v(n);
  for (auto& x : v) {
    switch (kind) {
      case 0: x = float(rng.below(3)); break;
      case 1: x = rng.below(4) == 0 ? 0.f : -std::numeric_limits<float>::infinity(); break;
      case 2: x = rng.below(2) ? 0.f : -0.f; break;
      default: x = rng.uniform(-1.f, 1.f);
    }
  }
  if (rng.below(4) == 0) v[size_t(rng.below(n))] = std::numeric_limits<float>::quiet_NaN();
  return v;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(float) * a.size()) == 0;
}

std::string geom_str(const PoolGeom& g) {
  std::ostringstream s;
  s << "H=" << g.H << " W=" << g.W << " k=" << g.KH << "x" << g.KW << " s=" << g.SH << "," << g.SW << " p=" << g.PH
    << "," << g.PW << " ceil=" << g.ceil_mode << " count_include_pad=" << g.count_include_pad;
  return s.str();
}

}  // namespace

TEST_CASE("maxpool2d vector kernels equal the naive loop bit for bit, values-only too", "[kernels][pool]") {
  cnn::test::for_each_isa([&] {
    Rng rng(21);
    int bad = 0;
    for (const PoolGeom& g : kernel_geoms(rng, true)) {
      for (int kind = 0; kind < 4; ++kind) {
        const auto x = tricky_vec(size_t(g.H) * g.W, rng, kind);
        const size_t n = size_t(g.OH) * g.OW;
        std::vector<float> ry(n, 99.f), y(n, 98.f), yv(n, 97.f);
        std::vector<int32_t> rarg(n, -5), arg(n, -6);
        maxpool2d_forward_naive(x.data(), g, ry.data(), rarg.data());
        maxpool2d_forward(x.data(), g, y.data(), arg.data());
        maxpool2d_forward(x.data(), g, yv.data(), nullptr);
        if (!same_bits(y, ry) || arg != rarg || !same_bits(yv, ry)) {
          if (++bad <= 5) FAIL_CHECK(geom_str(g) << " input kind " << kind);
        }
      }
    }
    CHECK(bad == 0);
  });
}

TEST_CASE("maxpool2d vector kernels: NaN, ties and padding in the common windows", "[kernels][pool]") {
  cnn::test::for_each_isa([&] {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    // 3x3 stride 2 pad 1 on a 40-wide plane of equal values: every window's first real cell.
    PoolGeom g = geom(6, 40, 3, 3, 2, 2, 1, 1, false);
    std::vector<float> x(size_t(6) * 40, 3.f);
    std::vector<float> y(size_t(g.OH) * g.OW);
    std::vector<int32_t> arg(y.size());
    maxpool2d_forward(x.data(), g, y.data(), arg.data());
    CHECK(arg[0] == 0);                // window rows -1..1, columns -1..1: first real cell (0, 0)
    CHECK(arg[5] == 9);                // columns 9..11 of row 0
    CHECK(arg[size_t(g.OW) + 5] == 40 + 9);  // rows 1..3
    // Two NaNs in one window: the first in row-major order.
    x[size_t(2) * 40 + 11] = nan;
    x[size_t(1) * 40 + 12] = nan;
    maxpool2d_forward(x.data(), g, y.data(), arg.data());
    const size_t w = size_t(g.OW) + 6;  // output (1, 6): rows 1..3, columns 11..13
    CHECK(std::isnan(y[w]));
    CHECK(arg[w] == 40 + 12);
    std::vector<float> yv(y.size());
    maxpool2d_forward(x.data(), g, yv.data(), nullptr);
    CHECK(std::isnan(yv[w]));
    CHECK(yv[0] == 3.f);
  });
}

TEST_CASE("avgpool2d vector kernels equal the naive loops bit for bit", "[kernels][pool]") {
  cnn::test::for_each_isa([&] {
    Rng rng(22);
    int bad = 0;
    for (bool cip : {true, false}) {
      for (const PoolGeom& g : kernel_geoms(rng, cip)) {
        auto x = rand_vec(size_t(g.H) * g.W, rng);
        x[size_t(rng.below(x.size()))] = -0.f;
        const size_t n = size_t(g.OH) * g.OW;
        std::vector<float> ry(n, 99.f), y(n, 98.f);
        avgpool2d_forward_naive(x.data(), g, ry.data());
        avgpool2d_forward(x.data(), g, y.data());
        const auto dy = rand_vec(n, rng);
        std::vector<float> rdx(x.size(), 55.f), dx(x.size(), 56.f);
        avgpool2d_backward_naive(dy.data(), g, rdx.data());
        avgpool2d_backward(dy.data(), g, dx.data());
        if (!same_bits(y, ry) || !same_bits(dx, rdx)) {
          if (++bad <= 5) FAIL_CHECK(geom_str(g));
        }
      }
    }
    CHECK(bad == 0);
  });
}

TEST_CASE("maxpool2d backward kernels equal the naive loops bit for bit, with the ReLU taken too", "[kernels][pool]") {
  cnn::test::for_each_isa([&] {
    Rng rng(23);
    std::vector<PoolGeom> gs = kernel_geoms(rng, true);
    // The flat 2x2 kernels' shapes: rows shorter and longer than a vector, odd heights (the last
    // row unread), LeNet-5's planes, and the largest plane they take.
    for (int W : {2, 4, 10, 14, 16, 18, 28, 30, 32, 34, 64})
      for (int H : {2, 3, 5, 10, 28})
        gs.push_back(geom(H, W, 2, 2, 2, 2, 0, 0, false));
    gs.push_back(geom(64, 128, 2, 2, 2, 2, 0, 0, false));
    gs.push_back(geom(66, 128, 2, 2, 2, 2, 0, 0, false));  // past the flat kernels' size: the row kernel
    int bad = 0, flat = 0;
    for (const PoolGeom& g : gs) {
      // Shapes the flat backward takes (and the naive loop does not have to).
      flat += g.KH == 2 && g.KW == 2 && g.SH == 2 && g.W == 2 * g.OW && g.PH == 0 && g.OH * g.OW >= 128;
      for (int kind = 0; kind < 4; ++kind) {
        const auto x = tricky_vec(size_t(g.H) * g.W, rng, kind);
        const size_t n = size_t(g.OH) * g.OW;
        std::vector<float> y(n);
        std::vector<int32_t> arg(n);
        maxpool2d_forward(x.data(), g, y.data(), arg.data());
        auto dy = tricky_vec(n, rng, 3);
        for (size_t i = 0; i < n; i += 3) dy[i] = -0.f;  // 0 + -0 is +0 in both
        for (float& v : y) v = v > 0.f ? v : 0.f;        // as the pool with the ReLU taken keeps it
        // Planes in the middle of larger buffers: a kernel that writes or reads past its plane
        // shows in the guard cells.
        std::vector<float> rdx(x.size() + 64, 7.f), dx(x.size() + 64, 7.f), rdr(rdx), dr(dx);
        maxpool2d_backward_naive(dy.data(), arg.data(), g, rdx.data() + 32);
        maxpool2d_backward(dy.data(), arg.data(), g, dx.data() + 32);
        maxpool2d_backward_relu_naive(dy.data(), y.data(), arg.data(), g, rdr.data() + 32);
        maxpool2d_backward_relu(dy.data(), y.data(), arg.data(), g, dr.data() + 32);
        if (!same_bits(dx, rdx) || !same_bits(dr, rdr))
          if (++bad <= 5) FAIL_CHECK(geom_str(g) << " input kind " << kind);
      }
    }
    CHECK(flat >= 10);
    CHECK(bad == 0);
  });
}
