// lrn, adaptive_avgpool, global_avgpool and dropout2d against direct double-precision loops
// (forward and backward), dropout2d's channel masks, and their ConfigErrors.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "../layer_builder.h"
#include "../thread_guard.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"

using namespace cnn;
using namespace cnn::test;

namespace {

void fill(Tensor& t, Rng& rng, float lo = -1.f, float hi = 1.f) {
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = rng.uniform(lo, hi);
}

// max |got - want| <= tol * max(1, max |want|).
void compare(const std::string& what, const Tensor& got, const std::vector<double>& want, double tol = 2e-6) {
  REQUIRE(got.numel() == int64_t(want.size()));
  double scale = 1, err = 0;
  int64_t at = 0;
  for (double w : want) scale = std::max(scale, std::abs(w));
  for (int64_t i = 0; i < got.numel(); ++i) {
    const double e = std::abs(double(got[i]) - want[size_t(i)]);
    if (!(e <= err)) err = e, at = i;
  }
  INFO(what << ": max |diff| " << err << " at " << at << " (got " << got[at] << ", want " << want[size_t(at)] << ")");
  CHECK(err <= tol * scale);
}

// torch.nn.functional.local_response_norm written out in double: forward y and, for upstream
// gradient dy, dx = d(sum(y * dy))/dx.
void lrn_reference(const Tensor& x, const Tensor& dy, int size, double alpha, double beta, double k,
                   std::vector<double>& y, std::vector<double>& dx) {
  const int64_t N = x.dim(0), C = x.dim(1), P = x.numel() / (N * C);
  const int64_t before = size / 2, after = (size - 1) / 2;
  y.assign(size_t(x.numel()), 0);
  dx.assign(size_t(x.numel()), 0);
  auto at = [&](int64_t n, int64_t c, int64_t p) { return size_t((n * C + c) * P + p); };
  for (int64_t n = 0; n < N; ++n)
    for (int64_t p = 0; p < P; ++p) {
      std::vector<double> s(static_cast<size_t>(C));
      for (int64_t c = 0; c < C; ++c) {
        double sum = 0;  // zero-padded window [c - before, c + after]
        for (int64_t j = c - before; j <= c + after; ++j)
          if (j >= 0 && j < C) sum += double(x[int64_t(at(n, j, p))]) * x[int64_t(at(n, j, p))];
        s[size_t(c)] = k + alpha * sum / size;
        y[at(n, c, p)] = x[int64_t(at(n, c, p))] * std::pow(s[size_t(c)], -beta);
      }
      for (int64_t c = 0; c < C; ++c) {
        const double g = dy[int64_t(at(n, c, p))], sc = s[size_t(c)];
        dx[at(n, c, p)] += g * std::pow(sc, -beta);
        // d s_c / d x_j = 2 alpha / size * x_j for j in the window of c.
        const double common = g * x[int64_t(at(n, c, p))] * -beta * std::pow(sc, -beta - 1) * 2 * alpha / size;
        for (int64_t j = c - before; j <= c + after; ++j)
          if (j >= 0 && j < C) dx[at(n, j, p)] += common * x[int64_t(at(n, j, p))];
      }
    }
}

void adaptive_reference(const Tensor& x, const Tensor& dy, int64_t OH, int64_t OW, std::vector<double>& y,
                        std::vector<double>& dx) {
  const int64_t planes = x.dim(0) * x.dim(1), H = x.dim(2), W = x.dim(3);
  y.assign(size_t(planes * OH * OW), 0);
  dx.assign(size_t(x.numel()), 0);
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t i = 0; i < OH; ++i)
      for (int64_t j = 0; j < OW; ++j) {
        const int64_t h0 = (i * H) / OH, h1 = ((i + 1) * H + OH - 1) / OH;  // floor / ceil
        const int64_t w0 = (j * W) / OW, w1 = ((j + 1) * W + OW - 1) / OW;
        const double cnt = double((h1 - h0) * (w1 - w0));
        double s = 0;
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) s += x[(pl * H + h) * W + w];
        y[size_t((pl * OH + i) * OW + j)] = s / cnt;
        const double g = dy[(pl * OH + i) * OW + j] / cnt;
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) dx[size_t((pl * H + h) * W + w)] += g;
      }
}

// Forward + backward of a one-input layer; dx pre-filled with NaN (must be overwritten).
void run_layer(Layer& layer, const Tensor& x, const Tensor& dy, Tensor& y, Tensor& dx, bool train = true,
               Rng* rng = nullptr) {
  RunContext ctx;
  ctx.train = train;
  ctx.rng = rng;
  y.resize(layer.infer({x.shape()}));
  dx.resize(x.shape());
  dx.fill(std::nanf(""));
  layer.forward({&x}, y, ctx);
  layer.backward({&x}, y, dy, {&dx}, ctx);
}

void expect_error(const std::string& type, const KeyValues& kv, const Shape* in, const std::string& needle) {
  INFO(type << ": expecting '" << needle << "'");
  try {
    auto layer = build_layer(type, kv, "net.b1." + type);
    if (in) layer->infer({*in});
    FAIL("no ConfigError");
  } catch (const ConfigError& e) {
    std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find(needle) != std::string::npos);
    CHECK(msg.find("net.b1." + type) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("lrn matches torch's local_response_norm written out in double", "[layers][lrn]") {
  struct Cfg {
    int size;
    double alpha, beta, k;
    Shape shape;
  };
  // Even and odd sizes, size 1, size > C, N x C x L, and 300 pixels (blocks of 128 + a tail).
  const std::vector<Cfg> cfgs = {
      {5, 1e-4, 0.75, 2, {2, 8, 3, 3}},  {5, 0.5, 0.75, 2, {2, 8, 3, 3}},  {4, 0.8, 0.75, 1, {1, 7, 2, 5}},
      {2, 1.0, 0.5, 1, {2, 4, 3, 2}},    {1, 2.0, 0.75, 1, {1, 3, 4, 4}},  {6, 1.0, 1.3, 0.7, {2, 3, 2, 2}},
      {3, 0.9, 0.75, 1, {3, 5, 6}},      {5, 1.0, 0.75, 2, {2, 6, 15, 20}}, {7, 0.3, 0.25, 1.5, {1, 9, 1, 1}},
  };
  Rng rng(42);
  for (int threads : {1, 2}) {
    ThreadGuard tg(threads);
    for (const Cfg& c : cfgs) {
      char spec[128];
      std::snprintf(spec, sizeof spec, "size %d alpha %g beta %g k %g on %s, threads %d", c.size, c.alpha, c.beta,
                    c.k, shape_str(c.shape).c_str(), threads);
      INFO(spec);
      auto layer = build_layer("lrn", {{"size", std::to_string(c.size)},
                                       {"alpha", std::to_string(c.alpha)},
                                       {"beta", std::to_string(c.beta)},
                                       {"k", std::to_string(c.k)}});
      CHECK(layer->params().empty());
      Tensor x(c.shape), dy(c.shape), y, dx;
      fill(x, rng, -2.f, 2.f);
      fill(dy, rng);
      run_layer(*layer, x, dy, y, dx);
      REQUIRE(y.shape() == c.shape);
      std::vector<double> wy, wdx;
      // alpha as the layer parsed it (std::to_string rounds to 6 decimals).
      lrn_reference(x, dy, c.size, std::stod(std::to_string(c.alpha)), std::stod(std::to_string(c.beta)),
                    std::stod(std::to_string(c.k)), wy, wdx);
      compare("lrn output", y, wy);
      compare("lrn input gradient", dx, wdx);
    }
  }
}

TEST_CASE("lrn: defaults are torch's (alpha 1e-4, beta 0.75, k 1)", "[layers][lrn]") {
  Rng rng(5);
  Tensor x({1, 6, 2, 2}), dy({1, 6, 2, 2}), y, dx;
  fill(x, rng, -30.f, 30.f);  // big enough that alpha = 1e-4 is visible
  fill(dy, rng);
  auto layer = build_layer("lrn", {{"size", "3"}});
  run_layer(*layer, x, dy, y, dx);
  std::vector<double> wy, wdx;
  lrn_reference(x, dy, 3, 1e-4, 0.75, 1.0, wy, wdx);
  compare("output", y, wy);
  compare("input gradient", dx, wdx);
  // A zero input stays zero (k > 0: no 0 * inf).
  Tensor z({1, 4, 1, 1}), zy, zdx;
  run_layer(*layer, z, z, zy, zdx);
  for (int64_t i = 0; i < 4; ++i) CHECK(zy[i] == 0.f);
}

TEST_CASE("adaptive_avgpool and global_avgpool match PyTorch's windows", "[layers][pool][adaptive]") {
  struct Cfg {
    KeyValues args;
    Shape in;
    int64_t oh, ow;
  };
  const std::vector<Cfg> cfgs = {
      {{{"out", "7"}}, {2, 3, 13, 13}, 7, 7},      {{{"out", "[6, 6]"}}, {1, 2, 15, 15}, 6, 6},
      {{{"out", "5"}}, {2, 2, 3, 3}, 5, 5},        {{{"out", "[3, 2]"}}, {1, 3, 10, 7}, 3, 2},
      {{{"out", "[4, 9]"}}, {2, 1, 8, 4}, 4, 9},   {{{"out", "1"}}, {3, 4, 5, 6}, 1, 1},
      {{{"out", "7"}}, {1, 2, 7, 7}, 7, 7},        {{{"out", "[2, 5]"}}, {2, 3, 1, 11}, 2, 5},
      {{}, {3, 70, 7, 7}, 1, 1},  // global_avgpool, big enough to go parallel
      {{}, {1, 2, 1, 1}, 1, 1},
  };
  Rng rng(7);
  for (int threads : {1, 3}) {
    ThreadGuard tg(threads);
    for (const Cfg& c : cfgs) {
      const std::string type = c.args.empty() ? "global_avgpool" : "adaptive_avgpool";
      INFO(type << " " << (c.args.empty() ? "" : c.args[0].second) << " on " << shape_str(c.in) << ", threads "
                << threads);
      auto layer = build_layer(type, c.args);
      const Shape os{c.in[0], c.in[1], c.oh, c.ow};
      REQUIRE(layer->infer({c.in}) == os);
      CHECK(layer->params().empty());
      Tensor x(c.in), dy(os), y, dx;
      fill(x, rng);
      fill(dy, rng);
      run_layer(*layer, x, dy, y, dx);
      std::vector<double> wy, wdx;
      adaptive_reference(x, dy, c.oh, c.ow, wy, wdx);
      compare("output", y, wy);
      compare("input gradient", dx, wdx);
    }
  }
  // Identity when the output size equals the input size; batch size may change between calls.
  auto same = build_layer("adaptive_avgpool", {{"out", "[3, 4]"}});
  CHECK(same->infer({{5, 2, 3, 4}}) == Shape{5, 2, 3, 4});
  CHECK(same->infer({{1, 2, 9, 9}}) == Shape{1, 2, 3, 4});
}

TEST_CASE("dropout2d: zeroes whole channels with probability p, scales the rest by 1/(1-p)", "[layers][dropout]") {
  const float p = 0.3f, scale = 1.f / (1.f - p);
  auto layer = build_layer("dropout2d", {{"p", "0.3"}});
  const Shape s{40, 100, 3, 3};  // 4000 planes, 36000 elements (the threaded path)
  REQUIRE(layer->infer({s}) == s);
  CHECK(layer->params().empty());
  Rng data(1), run(2);
  Tensor x(s), dy(s), y, dx;
  fill(x, data, 0.5f, 1.5f);  // nonzero: a zero output means dropped
  fill(dy, data);
  for (int threads : {1, 2}) {
    ThreadGuard tg(threads);
    run.reseed(2);
    run_layer(*layer, x, dy, y, dx, true, &run);
    int64_t dropped = 0, mixed = 0, bad = 0;
    for (int64_t pl = 0; pl < 4000; ++pl) {
      const bool drop = y[pl * 9] == 0.f;
      dropped += drop;
      for (int64_t i = pl * 9; i < pl * 9 + 9; ++i) {
        mixed += (y[i] == 0.f) != drop;
        const float want = drop ? 0.f : x[i] * scale, dwant = drop ? 0.f : dy[i] * scale;
        bad += !(std::abs(y[i] - want) <= 1e-6f * std::abs(want)) + !(std::abs(dx[i] - dwant) <= 1e-6f * std::abs(dwant));
      }
    }
    CHECK(double(dropped) / 4000 == Approx(p).margin(0.03));  // sd ~0.007
    CHECK(mixed == 0);
    CHECK(bad == 0);
  }
  // Same Rng state, same mask; the next draw differs.
  Rng a(2);
  Tensor y2, dx2, y3;
  run_layer(*layer, x, dy, y2, dx2, true, &a);
  int64_t same = 0;
  for (int64_t i = 0; i < x.numel(); ++i) same += y2[i] == y[i];
  CHECK(same == x.numel());
  y3.resize(s);
  RunContext ctx;
  ctx.rng = &a;
  layer->forward({&x}, y3, ctx);
  int64_t differ = 0;
  for (int64_t pl = 0; pl < 4000; ++pl) differ += (y3[pl * 9] == 0.f) != (y[pl * 9] == 0.f);
  CHECK(differ > 200);
  // Eval: the identity, no Rng needed.
  run_layer(*layer, x, dy, y, dx, false, nullptr);
  int64_t not_id = 0;
  for (int64_t i = 0; i < x.numel(); ++i) not_id += (y[i] != x[i]) + (dx[i] != dy[i]);
  CHECK(not_id == 0);
  // p = 1 drops everything; p = 0 is the identity; default p = 0.5.
  Rng r(3);
  auto p1 = build_layer("dropout2d", {{"p", "1"}});
  run_layer(*p1, x, dy, y, dx, true, &r);
  int64_t nonzero = 0;
  for (int64_t i = 0; i < x.numel(); ++i) nonzero += (y[i] != 0.f) + (dx[i] != 0.f);
  CHECK(nonzero == 0);
  auto p0 = build_layer("dropout2d", {{"p", "0"}});
  run_layer(*p0, x, dy, y, dx, true, &r);
  not_id = 0;
  for (int64_t i = 0; i < x.numel(); ++i) not_id += (y[i] != x[i]) + (dx[i] != dy[i]);
  CHECK(not_id == 0);
  auto pd = build_layer("dropout2d");
  run_layer(*pd, x, dy, y, dx, true, &r);
  int64_t dropped = 0;
  for (int64_t pl = 0; pl < 4000; ++pl) dropped += y[pl * 9] == 0.f;
  CHECK(double(dropped) / 4000 == Approx(0.5).margin(0.04));
}

TEST_CASE("lrn, adaptive/global avgpool, dropout2d: ConfigErrors", "[layers][errors]") {
  const Shape flat{2, 16}, img{1, 3, 8, 8}, seq{2, 3, 5}, empty{1, 3, 0, 4};
  expect_error("lrn", {}, nullptr, "missing required argument 'size'");
  expect_error("lrn", {{"size", "0"}}, nullptr, "size");
  expect_error("lrn", {{"size", "2.5"}}, nullptr, "size");
  expect_error("lrn", {{"size", "5"}, {"k", "0"}}, nullptr, "k");
  expect_error("lrn", {{"size", "5"}, {"alpha", "-1"}}, nullptr, "alpha");
  expect_error("lrn", {{"size", "5"}, {"beta", "x"}}, nullptr, "beta");
  expect_error("lrn", {{"size", "5"}, {"bias", "2"}}, nullptr, "unknown argument 'bias'");
  expect_error("lrn", {{"size", "5"}}, &flat, "N x C x H x W");
  expect_error("adaptive_avgpool", {}, nullptr, "missing required argument 'out'");
  expect_error("adaptive_avgpool", {{"out", "0"}}, nullptr, "out");
  expect_error("adaptive_avgpool", {{"out", "[1, 2, 3]"}}, nullptr, "out");
  expect_error("adaptive_avgpool", {{"out", "7"}, {"k", "2"}}, nullptr, "unknown argument 'k'");
  expect_error("adaptive_avgpool", {{"out", "7"}}, &flat, "N x C x H x W");
  expect_error("adaptive_avgpool", {{"out", "7"}}, &seq, "N x C x H x W");
  expect_error("adaptive_avgpool", {{"out", "7"}}, &empty, "empty");
  expect_error("global_avgpool", {{"out", "1"}}, nullptr, "takes no arguments");
  expect_error("global_avgpool", {}, &flat, "N x C x H x W");
  expect_error("dropout2d", {{"p", "1.5"}}, nullptr, "p");
  expect_error("dropout2d", {{"p", "-0.1"}}, nullptr, "p");
  expect_error("dropout2d", {{"rate", "0.1"}}, nullptr, "unknown argument 'rate'");
  expect_error("dropout2d", {}, &flat, "N x C x H x W");
  expect_error("dropout2d", {}, &seq, "N x C x H x W");
  CHECK_NOTHROW(build_layer("lrn", {{"size", "5"}})->infer({seq}));  // N x C x L, as torch
  CHECK_NOTHROW(build_layer("global_avgpool")->infer({img}));
}
