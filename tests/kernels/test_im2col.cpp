// im2col / col2im against direct loops; col2im is the adjoint of im2col.
#include <catch2/catch.hpp>
#include <vector>

#include "core/rng.h"
#include "kernels/im2col.h"

using namespace cnn;

namespace {

ConvGeom geom(int C, int H, int W, int KH, int KW, int SH, int SW, int PH, int PW, int DH, int DW, int PH_end = -1,
              int PW_end = -1) {
  ConvGeom g;
  g.C = C, g.H = H, g.W = W, g.KH = KH, g.KW = KW, g.SH = SH, g.SW = SW, g.PH = PH, g.PW = PW, g.DH = DH, g.DW = DW;
  g.PH_end = PH_end, g.PW_end = PW_end;
  g.finish();
  return g;
}

// The definition: row (c, ki, kj), column (oh, ow) holds x[c, oh*SH - PH + ki*DH, ow*SW - PW + kj*DW].
std::vector<float> ref_im2col(const std::vector<float>& x, const ConvGeom& g) {
  std::vector<float> col(size_t(g.col_rows() * g.col_cols()), 0.f);
  for (int c = 0; c < g.C; ++c)
    for (int ki = 0; ki < g.KH; ++ki)
      for (int kj = 0; kj < g.KW; ++kj)
        for (int oh = 0; oh < g.OH; ++oh)
          for (int ow = 0; ow < g.OW; ++ow) {
            int ih = oh * g.SH - g.PH + ki * g.DH, iw = ow * g.SW - g.PW + kj * g.DW;
            size_t row = (size_t(c) * g.KH + ki) * g.KW + kj;
            float v = (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) ? x[(size_t(c) * g.H + ih) * g.W + iw] : 0.f;
            col[row * g.col_cols() + size_t(oh) * g.OW + ow] = v;
          }
  return col;
}

std::vector<float> rand_vec(size_t n, Rng& rng) {
  std::vector<float> v(n);
  for (auto& x : v) x = rng.uniform(-1.f, 1.f);
  return v;
}

int expected_out(int in, int k, int s, int p0, int p1, int d) { return (in + p0 + p1 - d * (k - 1) - 1) / s + 1; }

const std::vector<ConvGeom>& cases() {
  static const std::vector<ConvGeom> all = {
      geom(1, 5, 5, 3, 3, 1, 1, 0, 0, 1, 1),
      geom(2, 6, 7, 3, 3, 1, 1, 1, 1, 1, 1),
      geom(3, 8, 8, 3, 3, 2, 2, 1, 1, 1, 1),   // stride 2, pad
      geom(2, 9, 7, 3, 3, 1, 1, 2, 2, 2, 2),   // dilation 2
      geom(2, 5, 9, 1, 3, 1, 1, 0, 1, 1, 1),   // 1x3
      geom(1, 7, 6, 3, 1, 2, 1, 1, 0, 1, 1),   // 3x1, stride (2, 1)
      geom(2, 10, 11, 3, 2, 3, 2, 1, 1, 2, 3), // everything non-square
      geom(1, 4, 4, 5, 5, 1, 1, 2, 2, 1, 1),   // kernel larger than the image
      geom(2, 3, 3, 1, 1, 1, 1, 0, 0, 1, 1),   // pointwise
      geom(1, 6, 6, 1, 1, 2, 2, 0, 0, 1, 1),   // 1x1 stride 2 (not pointwise)
      geom(2, 7, 8, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1),  // asymmetric padding: bottom/right only
      geom(1, 6, 5, 2, 2, 2, 2, 1, 0, 1, 1, 0, 1),  // top only / right only
      geom(3, 5, 5, 3, 3, 4, 4, 3, 3, 1, 1),   // stride larger than kernel, large pad
      geom(2, 5, 6, 3, 3, 1, 1, 2, 2, 1, 1, 0, 0),  // same width, padding top/left only
      geom(1, 2, 3, 5, 3, 1, 1, 4, 1, 1, 1, 0, 1),  // same width, rows entirely in the padding
      geom(4, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1),      // ResNet's 3x3
  };
  return all;
}

}  // namespace

TEST_CASE("ConvGeom::finish: PyTorch floor output size", "[kernels][im2col]") {
  for (const ConvGeom& g : cases()) {
    CHECK(g.OH == expected_out(g.H, g.KH, g.SH, g.PH, g.PH_end, g.DH));
    CHECK(g.OW == expected_out(g.W, g.KW, g.SW, g.PW, g.PW_end, g.DW));
  }
  CHECK(geom(1, 28, 28, 5, 5, 1, 1, 0, 0, 1, 1).OH == 24);
  CHECK(geom(1, 32, 32, 3, 3, 2, 2, 1, 1, 1, 1).OH == 16);
  CHECK(geom(1, 32, 32, 3, 3, 1, 1, 2, 2, 2, 2).OH == 32);
  CHECK(geom(1, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0).PH_end == 0);
  // A kernel larger than the padded input has no output (floor division, not truncation).
  CHECK(geom(1, 4, 4, 5, 5, 2, 2, 0, 0, 1, 1).OH <= 0);
  CHECK(geom(1, 4, 4, 5, 5, 3, 3, 0, 0, 1, 1).OW <= 0);
  CHECK(geom(1, 5, 5, 3, 3, 2, 2, 0, 0, 3, 3).OH <= 0);  // dilated extent 7 > 5
  CHECK(geom(1, 4, 4, 5, 5, 2, 2, 1, 1, 1, 1).OH == 1);  // padded to 6: fits
  CHECK(geom(1, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1).PH_end == 1);
}

TEST_CASE("ConvGeom::is_pointwise", "[kernels][im2col]") {
  CHECK(geom(2, 3, 3, 1, 1, 1, 1, 0, 0, 1, 1).is_pointwise());
  CHECK_FALSE(geom(2, 6, 6, 1, 1, 2, 2, 0, 0, 1, 1).is_pointwise());
  CHECK_FALSE(geom(2, 6, 6, 1, 1, 1, 1, 1, 1, 1, 1).is_pointwise());
  CHECK_FALSE(geom(2, 6, 6, 3, 3, 1, 1, 0, 0, 1, 1).is_pointwise());
  CHECK_FALSE(geom(2, 6, 6, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0).is_pointwise());
}

TEST_CASE("im2col matches the direct definition", "[kernels][im2col]") {
  Rng rng(3);
  for (const ConvGeom& g : cases()) {
    INFO("C=" << g.C << " H=" << g.H << " W=" << g.W << " k=" << g.KH << "x" << g.KW << " s=" << g.SH << "," << g.SW
              << " p=" << g.PH << "," << g.PW << "/" << g.PH_end << "," << g.PW_end << " d=" << g.DH << "," << g.DW);
    REQUIRE(g.OH > 0);
    REQUIRE(g.OW > 0);
    auto x = rand_vec(size_t(g.C) * g.H * g.W, rng);
    auto ref = ref_im2col(x, g);
    std::vector<float> col(ref.size(), 12345.f);  // every entry must be written, padding included
    im2col(x.data(), g, col.data());
    CHECK(col == ref);
    if (g.is_pointwise()) CHECK(col == x);  // the image is its own column matrix
  }
}

TEST_CASE("col2im is the adjoint of im2col and accumulates", "[kernels][im2col]") {
  Rng rng(4);
  for (const ConvGeom& g : cases()) {
    INFO("C=" << g.C << " H=" << g.H << " W=" << g.W << " k=" << g.KH << "x" << g.KW << " s=" << g.SH << "," << g.SW);
    const size_t nx = size_t(g.C) * g.H * g.W, nc = size_t(g.col_rows() * g.col_cols());
    auto x = rand_vec(nx, rng);
    auto c = rand_vec(nc, rng);
    std::vector<float> col(nc);
    im2col(x.data(), g, col.data());
    std::vector<float> dx(nx, 0.f);
    col2im(c.data(), g, dx.data());
    double lhs = 0, rhs = 0;
    for (size_t i = 0; i < nc; ++i) lhs += double(col[i]) * c[i];
    for (size_t i = 0; i < nx; ++i) rhs += double(x[i]) * dx[i];
    CHECK(lhs == Approx(rhs).epsilon(1e-5).margin(1e-5));

    // Entry by entry: dx[i] = sum of the column entries that im2col copied from x[i].
    std::vector<double> ref(nx, 0.0);
    for (int ch = 0; ch < g.C; ++ch)
      for (int ki = 0; ki < g.KH; ++ki)
        for (int kj = 0; kj < g.KW; ++kj)
          for (int oh = 0; oh < g.OH; ++oh)
            for (int ow = 0; ow < g.OW; ++ow) {
              int ih = oh * g.SH - g.PH + ki * g.DH, iw = ow * g.SW - g.PW + kj * g.DW;
              if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
              size_t row = (size_t(ch) * g.KH + ki) * g.KW + kj;
              ref[(size_t(ch) * g.H + ih) * g.W + iw] += c[row * g.col_cols() + size_t(oh) * g.OW + ow];
            }
    int bad = 0;
    for (size_t i = 0; i < nx; ++i)
      if (std::abs(dx[i] - ref[i]) > 1e-5) ++bad;
    CHECK(bad == 0);

    // col2im adds into dx.
    std::vector<float> base = rand_vec(nx, rng), acc = base;
    col2im(c.data(), g, acc.data());
    bad = 0;
    for (size_t i = 0; i < nx; ++i)
      if (std::abs(acc[i] - (base[i] + dx[i])) > 1e-5) ++bad;
    CHECK(bad == 0);
  }
}

TEST_CASE("im2col / col2im with ld: images side by side in one column matrix", "[kernels][im2col]") {
  Rng rng(5);
  for (const ConvGeom& g : cases()) {
    const int64_t P = g.col_cols(), K = g.col_rows(), nimg = 3, ld = nimg * P + 2;  // + 2: ld need not be tight
    const size_t nx = size_t(g.C) * g.H * g.W;
    std::vector<std::vector<float>> xs;
    std::vector<float> col(size_t(K * ld), 777.f);
    for (int64_t i = 0; i < nimg; ++i) {
      xs.push_back(rand_vec(nx, rng));
      im2col(xs.back().data(), g, col.data() + i * P, ld);
    }
    int bad = 0;
    for (int64_t i = 0; i < nimg; ++i) {
      auto ref = ref_im2col(xs[size_t(i)], g);
      for (int64_t r = 0; r < K; ++r)
        for (int64_t c = 0; c < P; ++c) bad += col[size_t(r * ld + i * P + c)] != ref[size_t(r * P + c)];
    }
    for (int64_t r = 0; r < K; ++r) bad += col[size_t(r * ld + nimg * P)] != 777.f;  // the gap is untouched
    CHECK(bad == 0);
    // col2im with ld reads each image's block.
    for (int64_t i = 0; i < nimg; ++i) {
      std::vector<float> tight(size_t(K * P));
      for (int64_t r = 0; r < K; ++r)
        for (int64_t c = 0; c < P; ++c) tight[size_t(r * P + c)] = col[size_t(r * ld + i * P + c)];
      std::vector<float> a(nx, 0.f), b(nx, 0.f);
      col2im(col.data() + i * P, g, a.data(), ld);
      col2im(tight.data(), g, b.data());
      CHECK(a == b);
    }
  }
}
