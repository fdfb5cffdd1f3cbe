// Conv2d and Linear against direct loops (forward, input, weight and bias gradients), across
// thread counts and batch sizes (conv's N < threads and N >= threads paths), plus parameter
// shapes, init bounds and macs.
#include <catch2/catch.hpp>

#include "isa_levels.h"
#include "kernels/conv_direct.h"
#include <cmath>
#include <sstream>
#include <vector>

#include "../layer_builder.h"
#include "../thread_guard.h"
#include "core/parallel.h"
#include "core/rng.h"

using namespace cnn;
using namespace cnn::test;

namespace {

struct ConvCfg {
  int C, H, W, out, KH, KW, SH, SW, PH, PW, DH, DW, groups;
  bool bias;
};

void fill(Tensor& t, Rng& rng) {
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = rng.uniform(-1.f, 1.f);
}

int count_bad(const Tensor& got, const std::vector<double>& want, double tol) {
  int bad = 0;
  for (int64_t i = 0; i < got.numel(); ++i)
    if (!(std::abs(got[i] - want[size_t(i)]) <= tol * (1 + std::abs(want[size_t(i)])))) ++bad;
  return bad;
}

// Float32 rounding bound: |got - want| <= tol * sum |terms| (+ a tiny floor).
int count_bad_sum(const Tensor& got, const std::vector<double>& want, const std::vector<double>& abssum, double tol) {
  int bad = 0;
  for (int64_t i = 0; i < got.numel(); ++i)
    if (!(std::abs(got[i] - want[size_t(i)]) <= tol * abssum[size_t(i)] + 1e-6)) ++bad;
  return bad;
}

std::string str(const std::vector<int64_t>& v) {
  std::ostringstream os;  // (not string concatenation: GCC 12 -Wrestrict false positive at -O3)
  os << '[' << v[0] << ',' << v[1] << ']';
  return os.str();
}

// A training forward asked for its channel sums (RunContext::channel_sums_out, BatchNorm's
// statistics) writes the same output and the sums of that output and of its squares.
void check_channel_sums(Layer& layer, const Tensor& x, const Tensor& y) {
  REQUIRE(layer.writes_channel_sums());
  ChannelSums sums;
  RunContext ctx;
  ctx.channel_sums_out = &sums;
  Tensor y2(y.shape());
  layer.forward({&x}, y2, ctx);
  CHECK(std::vector<float>(y2.data(), y2.data() + y2.numel()) == std::vector<float>(y.data(), y.data() + y.numel()));
  const int64_t N = y.dim(0), M = y.dim(1), HW = y.numel() / (N * M);
  REQUIRE(sums.sum.size() == size_t(M));
  REQUIRE(sums.sum_sq.size() == size_t(M));
  for (int64_t m = 0; m < M; ++m) {
    double s = 0, ss = 0, a = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        const double v = y[(n * M + m) * HW + i];
        s += v, ss += v * v, a += std::abs(v);
      }
    CHECK(std::abs(sums.sum[size_t(m)] - s) <= 1e-12 * (a + 1));
    CHECK(std::abs(sums.sum_sq[size_t(m)] - ss) <= 1e-12 * (ss + 1));
  }
}

void check_conv(const ConvCfg& c, int64_t N, uint64_t seed) {
  INFO("conv C=" << c.C << " " << c.H << "x" << c.W << " out=" << c.out << " k=" << c.KH << "x" << c.KW << " s="
                 << c.SH << "," << c.SW << " p=" << c.PH << "," << c.PW << " d=" << c.DH << "," << c.DW
                 << " groups=" << c.groups << " bias=" << c.bias << " N=" << N << " threads=" << num_threads());
  auto layer = build_layer("conv", {{"out", std::to_string(c.out)},
                                    {"k", str({c.KH, c.KW})},
                                    {"stride", str({c.SH, c.SW})},
                                    {"pad", str({c.PH, c.PW})},
                                    {"dilation", str({c.DH, c.DW})},
                                    {"groups", std::to_string(c.groups)},
                                    {"bias", c.bias ? "true" : "false"}});
  Shape os = layer->infer({{N, c.C, c.H, c.W}});
  const int OH = (c.H + 2 * c.PH - c.DH * (c.KH - 1) - 1) / c.SH + 1;
  const int OW = (c.W + 2 * c.PW - c.DW * (c.KW - 1) - 1) / c.SW + 1;
  REQUIRE(os == Shape{N, c.out, OH, OW});
  auto params = layer->params();
  REQUIRE(params.size() == (c.bias ? 2u : 1u));
  Tensor& w = params[0]->value;
  REQUIRE(w.shape() == Shape{c.out, c.C / c.groups, c.KH, c.KW});
  Rng rng(seed);
  fill(w, rng);
  if (c.bias) fill(params[1]->value, rng);
  Tensor x({N, c.C, c.H, c.W}), y(os), dy(os), dx(x.shape());
  fill(x, rng);
  fill(dy, rng);
  RunContext ctx;
  layer->forward({&x}, y, ctx);
  check_channel_sums(*layer, x, y);

  const int Cg = c.C / c.groups, Mg = c.out / c.groups;
  auto X = [&](int64_t n, int ch, int h, int ww) { return x[((n * c.C + ch) * c.H + h) * c.W + ww]; };
  auto widx = [&](int o, int cl, int ki, int kj) { return ((int64_t(o) * Cg + cl) * c.KH + ki) * c.KW + kj; };
  std::vector<double> ry(size_t(y.numel())), rdx(size_t(x.numel()), 0.0), rdw(size_t(w.numel()), 0.0),
      rdb(size_t(c.out), 0.0);
  std::vector<double> ay(ry.size()), adx(rdx.size(), 0.0), adw(rdw.size(), 0.0), adb(rdb.size(), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int o = 0; o < c.out; ++o) {
      const int g = o / Mg;
      for (int oh = 0; oh < OH; ++oh)
        for (int ow = 0; ow < OW; ++ow) {
          const size_t yi = size_t(((n * c.out + o) * OH + oh) * OW + ow);
          double s = c.bias ? params[1]->value[o] : 0.0;
          double as = std::abs(s);
          const double d = dy[int64_t(yi)];
          rdb[size_t(o)] += d;
          adb[size_t(o)] += std::abs(d);
          for (int cl = 0; cl < Cg; ++cl)
            for (int ki = 0; ki < c.KH; ++ki)
              for (int kj = 0; kj < c.KW; ++kj) {
                int ih = oh * c.SH - c.PH + ki * c.DH, iw = ow * c.SW - c.PW + kj * c.DW;
                if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;
                const int ch = g * Cg + cl;
                const double wv = w[widx(o, cl, ki, kj)], xv = X(n, ch, ih, iw);
                s += wv * xv;
                as += std::abs(wv * xv);
                rdw[size_t(widx(o, cl, ki, kj))] += d * xv;
                adw[size_t(widx(o, cl, ki, kj))] += std::abs(d * xv);
                rdx[size_t(((n * c.C + ch) * c.H + ih) * c.W + iw)] += d * wv;
                adx[size_t(((n * c.C + ch) * c.H + ih) * c.W + iw)] += std::abs(d * wv);
              }
          ry[yi] = s;
          ay[yi] = as;
        }
    }
  const double tol = 2e-6;  // ~ 16 float32 ulps of the sum of |terms|
  CHECK(count_bad_sum(y, ry, ay, tol) == 0);

  for (Param* p : params) p->grad.zero();
  dx.fill(std::nanf(""));
  layer->backward({&x}, y, dy, {&dx}, ctx);
  CHECK(count_bad_sum(dx, rdx, adx, tol) == 0);
  CHECK(count_bad_sum(params[0]->grad, rdw, adw, tol) == 0);
  if (c.bias) CHECK(count_bad_sum(params[1]->grad, rdb, adb, tol) == 0);

  // Parameter gradients accumulate; a null din is allowed.
  layer->backward({&x}, y, dy, {nullptr}, ctx);
  for (auto& v : rdw) v *= 2;
  for (auto& v : adw) v *= 2;
  CHECK(count_bad_sum(params[0]->grad, rdw, adw, tol) == 0);
  if (c.bias) {
    for (auto& v : rdb) v *= 2;
    for (auto& v : adb) v *= 2;
    CHECK(count_bad_sum(params[1]->grad, rdb, adb, tol) == 0);
  }
}

const ConvCfg kConvs[] = {
    {3, 6, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, true},
    {2, 7, 7, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, true},
    {2, 9, 8, 3, 3, 3, 1, 1, 2, 2, 2, 2, 1, false},
    {4, 5, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2, true},
    {4, 6, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 4, true},     // depthwise
    {3, 4, 7, 2, 1, 3, 1, 1, 0, 1, 1, 1, 1, true},     // 1x3
    {3, 7, 5, 2, 3, 2, 2, 1, 1, 0, 1, 2, 1, true},     // everything asymmetric
    {5, 4, 3, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1, true},     // pointwise
    {6, 3, 3, 4, 1, 1, 1, 1, 0, 0, 1, 1, 2, false},    // pointwise grouped
    {2, 5, 5, 3, 1, 1, 2, 2, 0, 0, 1, 1, 1, true},     // 1x1 stride 2: im2col path
    {8, 24, 24, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, true},  // big enough for the parallel GEMM
    {32, 20, 20, 32, 1, 1, 1, 1, 0, 0, 1, 1, 1, true}, // big pointwise
    // ResNet-like channel counts, grouped, no/more padding, 5x5
    {16, 6, 7, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, true},
    {16, 5, 6, 8, 3, 3, 1, 1, 0, 0, 1, 1, 1, false},   // no padding
    {32, 5, 5, 8, 3, 2, 1, 1, 2, 1, 1, 1, 2, true},    // grouped, padding k-1, 3x2
    {16, 4, 4, 6, 5, 5, 1, 1, 2, 2, 1, 1, 1, true},    // 5x5
    {16, 7, 7, 4, 3, 3, 1, 1, 2, 2, 2, 2, 1, true},    // dilated
};

}  // namespace

TEST_CASE("conv2d matches direct convolution, all thread/batch paths", "[layers][conv]") {
  cnn::test::for_each_isa([&] {
    for (int threads : {1, 2, 3}) {
      ThreadGuard tg(threads);
      uint64_t seed = 10;
      for (const ConvCfg& c : kConvs)
        for (int64_t N : {int64_t(1), int64_t(2), int64_t(threads + 3)}) check_conv(c, N, seed++);
    }
  });
}

TEST_CASE("conv2d: the direct path in groups of images gives the whole batch's result", "[layers][conv]") {
  // A budget of one image's rows forces groups of 1, a budget of two a remainder group.
  for (int64_t budget : {int64_t(1), int64_t(2 * 12 * 13 * 9)}) {
    set_direct_conv_group_budget(budget);
    uint64_t seed = 77;
    for (const ConvCfg& c : kConvs) check_conv(c, 5, seed++);
  }
  set_direct_conv_group_budget(0);
}

TEST_CASE("conv2d: same result whatever the thread count", "[layers][conv]") {
  cnn::test::for_each_isa([&] {
    const ConvCfg c{8, 24, 24, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, true};
    std::vector<Tensor> outs, grads;
    for (int threads : {1, 2, 3}) {
      ThreadGuard tg(threads);
      for (int64_t N : {int64_t(1), int64_t(5)}) {
        auto layer = build_layer("conv", {{"out", "16"}, {"k", "3"}, {"pad", "1"}});
        Shape os = layer->infer({{N, c.C, c.H, c.W}});
        Rng rng(5);
        layer->init(rng);
        Tensor x({N, c.C, c.H, c.W}), y(os), dy(os), dx(x.shape());
        Rng r2(6);
        fill(x, r2);
        fill(dy, r2);
        RunContext ctx;
        layer->forward({&x}, y, ctx);
        layer->backward({&x}, y, dy, {&dx}, ctx);
        if (N == 1) {
          outs.push_back(y);
          grads.push_back(layer->params()[0]->grad);
        }
      }
    }
    for (size_t i = 1; i < outs.size(); ++i) {
      double md = 0, mg = 0;
      for (int64_t j = 0; j < outs[0].numel(); ++j) md = std::max(md, double(std::abs(outs[i][j] - outs[0][j])));
      for (int64_t j = 0; j < grads[0].numel(); ++j) mg = std::max(mg, double(std::abs(grads[i][j] - grads[0][j])));
      CHECK(md < 1e-5);
      CHECK(mg < 1e-4);
    }
  });
}

// RunContext::add_input_grad: a layer that says it can (GEMM and direct paths) adds its input
// gradient to what din holds; the others are never asked (the Net plans it from can_add_input_grad).
TEST_CASE("conv2d: add_input_grad adds the input gradient to din", "[layers][conv]") {
  cnn::test::for_each_isa([&] {
    struct Case {
      KeyValues kv;
      Shape in;
    };
    const Case cases[] = {
        {{{"out", "40"}, {"k", "1"}, {"bias", "false"}}, {3, 32, 5, 5}},       // 1x1, images side by side
        {{{"out", "24"}, {"k", "1"}}, {2, 32, 48, 48}},                          // 1x1, one image per SGEMM
        {{{"out", "16"}, {"k", "3"}, {"stride", "2"}, {"pad", "1"}}, {3, 32, 9, 7}},  // im2col + col2im
        {{{"out", "8"}, {"k", "3"}, {"pad", "1"}, {"groups", "2"}}, {2, 4, 6, 6}},    // grouped
        {{{"out", "8"}, {"k", "3"}, {"pad", "1"}}, {2, 8, 12, 11}},                   // direct (SIMD levels)
        {{{"out", "13"}, {"k", "3"}, {"stride", "2"}, {"pad", "1"}}, {3, 8, 11, 9}},  // direct, phase planes
        {{{"out", "300"}, {"k", "3"}, {"pad", "1"}, {"bias", "false"}}, {1, 4, 5, 6}},  // dx in two channel blocks
    };
    for (int threads : {1, 2}) {
      ThreadGuard tg(threads);
      for (const Case& c : cases) {
        auto layer = build_layer("conv", c.kv);
        const Shape os = layer->infer({c.in});
        INFO("kernel " << layer->kernel() << ", input " << shape_str(c.in));
        REQUIRE(layer->can_add_input_grad());
        Rng rng(5);
        layer->init(rng);
        Tensor x(c.in), y(os), dy(os), dx(c.in), sum(c.in);
        Rng r2(6);
        fill(x, r2);
        fill(dy, r2);
        fill(sum, r2);
        const Tensor before = sum;
        RunContext ctx;
        layer->forward({&x}, y, ctx);
        layer->backward({&x}, y, dy, {&dx}, ctx);
        ctx.add_input_grad = true;
        layer->backward({&x}, y, dy, {&sum}, ctx);
        double worst = 0;
        for (int64_t i = 0; i < dx.numel(); ++i)
          worst = std::max(worst, double(std::abs(sum[i] - (before[i] + dx[i]))) / (1.0 + std::abs(dx[i])));
        CHECK(worst < 1e-5);
      }
    }
    // The depthwise kernel overwrites din: it must say so.
    auto depthwise = build_layer("conv", {{"out", "8"}, {"k", "3"}, {"pad", "1"}, {"groups", "8"}});
    depthwise->infer({{2, 8, 12, 12}});
    CHECK_FALSE(depthwise->can_add_input_grad());
  });
}

TEST_CASE("conv2d: parameters, init bounds, macs, batch change", "[layers][conv]") {
  auto layer = build_layer("conv", {{"out", "6"}, {"k", "[3, 5]"}, {"groups", "2"}});
  Shape os = layer->infer({{2, 4, 10, 12}});
  CHECK(os == Shape{2, 6, 8, 8});
  auto ps = layer->params();
  REQUIRE(ps.size() == 2);
  CHECK(ps[0]->name == "weight");
  CHECK(ps[1]->name == "bias");
  CHECK(ps[0]->value.shape() == Shape{6, 2, 3, 5});
  CHECK(ps[0]->grad.shape() == Shape{6, 2, 3, 5});
  CHECK(ps[1]->value.shape() == Shape{6});
  CHECK(ps[0]->fan_in == 2 * 3 * 5);
  CHECK(ps[0]->init_kind == "conv");
  CHECK(ps[1]->init_kind == "bias");
  CHECK(layer->macs({{1, 4, 10, 12}}, {1, 6, 8, 8}) == 6 * 8 * 8 * 2 * 3 * 5);
  Rng rng(1);
  layer->init(rng);
  const float bound = 1.f / std::sqrt(30.f);
  float mx = 0;
  for (Param* p : ps)
    for (int64_t i = 0; i < p->value.numel(); ++i) mx = std::max(mx, std::abs(p->value[i]));
  CHECK(mx <= bound);
  CHECK(mx > 0.5f * bound);
  // A new batch size keeps the parameters.
  const float w0 = ps[0]->value[0];
  CHECK(layer->infer({{7, 4, 10, 12}}) == Shape{7, 6, 8, 8});
  CHECK(layer->params()[0]->value[0] == w0);
  auto nb = build_layer("conv", {{"out", "3"}, {"k", "1"}, {"bias", "false"}});
  nb->infer({{1, 2, 4, 4}});
  CHECK(nb->params().size() == 1);
}

TEST_CASE("linear matches x W^T + b and its gradients", "[layers][linear]") {
  for (int threads : {1, 2}) {
    ThreadGuard tg(threads);
    for (auto [N, F, O] : {std::tuple<int64_t, int64_t, int64_t>{1, 7, 5}, {4, 3, 9}, {6, 512, 128}}) {
      for (bool bias : {true, false}) {
        INFO("N=" << N << " F=" << F << " O=" << O << " bias=" << bias << " threads=" << threads);
        auto layer = build_layer("linear", {{"out", std::to_string(O)}, {"bias", bias ? "true" : "false"}});
        REQUIRE(layer->infer({{N, F}}) == Shape{N, O});
        auto ps = layer->params();
        REQUIRE(ps.size() == (bias ? 2u : 1u));
        REQUIRE(ps[0]->value.shape() == Shape{O, F});
        CHECK(layer->macs({{1, F}}, {1, O}) == F * O);
        Rng rng(uint64_t(N * 100 + F));
        for (Param* p : ps) fill(p->value, rng), p->grad.zero();
        Tensor x({N, F}), y({N, O}), dy({N, O}), dx({N, F});
        fill(x, rng);
        fill(dy, rng);
        dx.fill(std::nanf(""));
        RunContext ctx;
        layer->forward({&x}, y, ctx);
        layer->backward({&x}, y, dy, {&dx}, ctx);
        std::vector<double> ry(size_t(N * O)), rdx(size_t(N * F), 0.0), rdw(size_t(O * F), 0.0), rdb(size_t(O), 0.0);
        for (int64_t n = 0; n < N; ++n)
          for (int64_t o = 0; o < O; ++o) {
            double s = bias ? ps[1]->value[o] : 0.0;
            const double d = dy[n * O + o];
            for (int64_t f = 0; f < F; ++f) {
              s += double(x[n * F + f]) * ps[0]->value[o * F + f];
              rdx[size_t(n * F + f)] += d * ps[0]->value[o * F + f];
              rdw[size_t(o * F + f)] += d * x[n * F + f];
            }
            rdb[size_t(o)] += d;
            ry[size_t(n * O + o)] = s;
          }
        CHECK(count_bad(y, ry, 1e-5) == 0);
        CHECK(count_bad(dx, rdx, 1e-5) == 0);
        CHECK(count_bad(ps[0]->grad, rdw, 1e-5) == 0);
        if (bias) CHECK(count_bad(ps[1]->grad, rdb, 1e-5) == 0);
      }
    }
  }
}
