// Dropout statistics and mask, pooling/activation/merge layer behaviour beyond gradients,
// registry contents, and the ConfigErrors of argument parsing and shape inference.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "../layer_builder.h"
#include "core/error.h"
#include "core/rng.h"
#include "kernels/activation.h"

using namespace cnn;
using namespace cnn::test;

namespace {

void fill(Tensor& t, Rng& rng, float lo = -1.f, float hi = 1.f) {
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = rng.uniform(lo, hi);
}

// Runs infer and expects a ConfigError whose message mentions `needle` and the layer path.
void expect_infer_error(const std::string& type, const KeyValues& kv, const std::vector<Shape>& in,
                        const std::string& needle) {
  INFO(type << " on " << (in.empty() ? std::string() : shape_str(in[0])) << ": expecting '" << needle << "'");
  auto layer = build_layer(type, kv, "net.block1." + type);
  try {
    layer->infer(in);
    FAIL("no ConfigError");
  } catch (const ConfigError& e) {
    std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find(needle) != std::string::npos);
    CHECK(msg.find("net.block1." + type) != std::string::npos);
  }
}

void expect_make_error(const std::string& type, const KeyValues& kv, const std::string& needle) {
  INFO(type << ": expecting '" << needle << "'");
  try {
    build_layer(type, kv, "model.x");
    FAIL("no ConfigError");
  } catch (const ConfigError& e) {
    std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find(needle) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("registry lists every layer type", "[layers][registry]") {
  auto names = layer_type_names();
  CHECK(std::is_sorted(names.begin(), names.end()));
  for (const char* t : {"conv", "linear", "maxpool", "avgpool", "relu", "leaky_relu", "tanh", "sigmoid", "flatten",
                        "dropout", "identity", "add", "concat"}) {
    INFO(t);
    CHECK(is_layer_type(t));
    CHECK(std::find(names.begin(), names.end(), t) != names.end());
  }
  CHECK_FALSE(is_layer_type("conv2d"));
  CHECK_FALSE(is_layer_type(""));
}

TEST_CASE("dropout: train drops ~p and scales by 1/(1-p), eval is the identity", "[layers][dropout]") {
  const float p = 0.3f;
  auto layer = build_layer("dropout", {{"p", "0.3"}});
  const Shape s{4, 25, 20, 20};  // 40000 elements
  REQUIRE(layer->infer({s}) == s);
  Rng data(1), run(2);
  Tensor x(s), y(s), dy(s), dx(s);
  fill(x, data, 0.5f, 1.5f);  // nonzero: a zero output means dropped
  fill(dy, data);
  RunContext ctx;
  ctx.train = true;
  ctx.rng = &run;
  layer->forward({&x}, y, ctx);
  int64_t dropped = 0, wrong_scale = 0;
  const float scale = 1.f / (1.f - p);
  for (int64_t i = 0; i < x.numel(); ++i) {
    if (y[i] == 0.f) ++dropped;
    else if (std::abs(y[i] - x[i] * scale) > 1e-6f * std::abs(x[i] * scale)) ++wrong_scale;
  }
  const double frac = double(dropped) / double(x.numel());
  CHECK(frac == Approx(p).margin(0.015));  // 40000 samples: sd ~0.0023
  CHECK(wrong_scale == 0);
  // Expectation preserved: mean(y) ~ mean(x).
  double mx = 0, my = 0;
  for (int64_t i = 0; i < x.numel(); ++i) mx += x[i], my += y[i];
  CHECK(my / mx == Approx(1.0).margin(0.03));

  // Backward uses the same mask: dx = dy * mask.
  dx.fill(std::nanf(""));
  layer->backward({&x}, y, dy, {&dx}, ctx);
  int64_t bad = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float want = y[i] == 0.f ? 0.f : dy[i] * scale;
    if (!(std::abs(dx[i] - want) <= 1e-6f * (1 + std::abs(want)))) ++bad;
  }
  CHECK(bad == 0);

  // Same Rng state, same mask; the Rng advances, so the next call differs.
  Rng again(2);
  ctx.rng = &again;
  Tensor y2(s), y3(s);
  layer->forward({&x}, y2, ctx);
  layer->forward({&x}, y3, ctx);
  int64_t same = 0, differ = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    same += y2[i] == y[i];
    differ += (y3[i] == 0.f) != (y[i] == 0.f);
  }
  CHECK(same == x.numel());
  CHECK(differ > 1000);

  // Eval: identity forward and backward, no Rng needed.
  RunContext ev;
  ev.train = false;
  ev.rng = nullptr;
  layer->forward({&x}, y, ev);
  layer->backward({&x}, y, dy, {&dx}, ev);
  int64_t not_id = 0;
  for (int64_t i = 0; i < x.numel(); ++i) not_id += (y[i] != x[i]) + (dx[i] != dy[i]);
  CHECK(not_id == 0);
}

TEST_CASE("dropout: p = 0 is the identity in training, p = 1 drops everything, default p = 0.5",
          "[layers][dropout]") {
  const Shape s{2, 500};
  Rng data(3), run(4);
  Tensor x(s), y(s);
  fill(x, data, 0.5f, 1.5f);
  RunContext ctx;
  ctx.rng = &run;
  auto p0 = build_layer("dropout", {{"p", "0"}});
  p0->infer({s});
  p0->forward({&x}, y, ctx);
  int64_t diff = 0;
  for (int64_t i = 0; i < x.numel(); ++i) diff += y[i] != x[i];
  CHECK(diff == 0);
  auto p1 = build_layer("dropout", {{"p", "1"}});
  p1->infer({s});
  p1->forward({&x}, y, ctx);
  int64_t nonzero = 0;
  for (int64_t i = 0; i < x.numel(); ++i) nonzero += y[i] != 0.f || std::isnan(y[i]);
  CHECK(nonzero == 0);
  auto pd = build_layer("dropout");
  pd->infer({s});
  pd->forward({&x}, y, ctx);
  int64_t dropped = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    dropped += y[i] == 0.f;
    if (y[i] != 0.f) CHECK(y[i] == Approx(2 * x[i]));
  }
  CHECK(double(dropped) / 1000 == Approx(0.5).margin(0.06));
}

TEST_CASE("pooling layers: default stride is the kernel, per-plane results", "[layers][pool]") {
  auto mp = build_layer("maxpool", {{"k", "2"}});
  CHECK(mp->infer({{3, 2, 8, 6}}) == Shape{3, 2, 4, 3});
  CHECK(mp->params().empty());
  auto mp3 = build_layer("maxpool", {{"k", "3"}, {"stride", "2"}, {"pad", "1"}, {"ceil", "true"}});
  CHECK(mp3->infer({{1, 1, 8, 8}}) == Shape{1, 1, 5, 5});
  auto ap = build_layer("avgpool", {{"k", "[2, 3]"}});
  CHECK(ap->infer({{1, 4, 6, 9}}) == Shape{1, 4, 3, 3});
  // Planes are independent: the maximum of plane (n, c) comes from that plane only.
  const Shape s{2, 3, 4, 4};
  Tensor x(s), y({2, 3, 2, 2});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = float(i);
  mp->infer({s});
  RunContext ctx;
  mp->forward({&x}, y, ctx);
  for (int64_t pl = 0; pl < 6; ++pl) {
    CHECK(y[pl * 4 + 0] == float(pl * 16 + 5));
    CHECK(y[pl * 4 + 3] == float(pl * 16 + 15));
  }
  ap->infer({s});
  auto a2 = build_layer("avgpool", {{"k", "4"}});
  Tensor ya({2, 3, 1, 1});
  REQUIRE(a2->infer({s}) == Shape{2, 3, 1, 1});
  a2->forward({&x}, ya, ctx);
  for (int64_t pl = 0; pl < 6; ++pl) CHECK(ya[pl] == Approx(pl * 16 + 7.5));
}

TEST_CASE("maxpool layer: eval forwards keep no indices, a backward after one still routes right", "[layers][pool]") {
  // Eval forwards write the values only; a backward after an eval forward (cnn explain's
  // Grad-CAM) finds the indices again, so both runs give the same output and input gradient.
  auto mp = build_layer("maxpool", {{"k", "3"}, {"stride", "2"}, {"pad", "1"}});
  const Shape s{2, 3, 9, 20};
  const Shape os = mp->infer({s});
  CHECK(mp->state_floats(true) == size_t(2 * 3 * 5 * 10));
  CHECK(mp->state_floats(false) == 0);
  Rng rng(3);
  Tensor x(s), dy(os), y_train(os), y_eval(os), dx_train(s), dx_eval(s);
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = float(rng.below(4));  // ties everywhere
  for (int64_t i = 0; i < dy.numel(); ++i) dy[i] = rng.uniform(-1.f, 1.f);
  RunContext train, eval;
  eval.train = false;
  mp->forward({&x}, y_train, train);
  mp->backward({&x}, y_train, dy, {&dx_train}, train);
  mp->forward({&x}, y_eval, eval);
  mp->backward({&x}, y_eval, dy, {&dx_eval}, eval);
  for (int64_t i = 0; i < y_train.numel(); ++i) REQUIRE(y_eval[i] == y_train[i]);
  for (int64_t i = 0; i < x.numel(); ++i) REQUIRE(dx_eval[i] == dx_train[i]);
}

// A max pool that took the ReLU before it (Layer::fuse_relu_before) against the ReLU then the pool,
// bit for bit, forward and backward: values in -2..1 (ties, zeros, windows all <= 0), -0, and NaN
// both alone in a window and beside positive values (a NaN wins the max pool, relu(NaN) is 0).
TEST_CASE("maxpool layer: the ReLU taken before it gives the two layers' bits", "[layers][pool][fusion]") {
  for (const KeyValues& kv : {KeyValues{{"k", "2"}}, KeyValues{{"k", "3"}, {"stride", "2"}, {"pad", "1"}}}) {
    auto fused = build_layer("maxpool", kv), pool = build_layer("maxpool", kv), relu = build_layer("relu");
    REQUIRE(fused->fuse_relu_before(true));
    const Shape s{2, 3, 8, 10};
    const Shape os = fused->infer({s});
    pool->infer({s});
    relu->infer({s});
    Rng rng(5);
    Tensor x(s), r(s), dy(os), y_fused(os), y_plain(os), dx_fused(s), dr(s), dx_plain(s);
    for (int64_t i = 0; i < x.numel(); ++i) x[i] = float(rng.below(4)) - 2.f;
    for (int64_t i = 0; i < dy.numel(); ++i) dy[i] = rng.uniform(-1.f, 1.f);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    x[0] = nan, x[1] = 1.f;       // plane 0: a NaN beside a positive value
    x[8 * 10] = -0.f;             // plane 1: a -0
    for (int64_t i = 2 * 80; i < 3 * 80; ++i) x[i] = -1.f;  // plane 2: every value <= 0,
    x[2 * 80 + 5] = nan;                                     // and a NaN among them
    RunContext ctx;
    fused->forward({&x}, y_fused, ctx);
    fused->backward({&x}, y_fused, dy, {&dx_fused}, ctx);
    relu->forward({&x}, r, ctx);
    pool->forward({&r}, y_plain, ctx);
    pool->backward({&r}, y_plain, dy, {&dr}, ctx);
    relu->backward({&x}, r, dr, {&dx_plain}, ctx);
    CHECK(std::memcmp(y_fused.data(), y_plain.data(), sizeof(float) * size_t(y_plain.numel())) == 0);
    CHECK(std::memcmp(dx_fused.data(), dx_plain.data(), sizeof(float) * size_t(dx_plain.numel())) == 0);
    CHECK(y_plain[0] == 1.f);  // the NaN's window: max(relu) is the positive value, not relu(NaN)
  }
  CHECK_FALSE(build_layer("avgpool", {{"k", "2"}})->fuse_relu_before(true));
}

TEST_CASE("activation layers: shapes, default slope, values", "[layers][activation]") {
  Tensor x({1, 4}), y({1, 4});
  x[0] = -2.f, x[1] = -0.5f, x[2] = 0.5f, x[3] = 3.f;
  RunContext ctx;
  auto run = [&](const std::string& type, const KeyValues& kv) {
    auto l = build_layer(type, kv);
    REQUIRE(l->infer({{1, 4}}) == Shape{1, 4});
    CHECK(l->params().empty());
    l->forward({&x}, y, ctx);
    return std::vector<float>{y[0], y[1], y[2], y[3]};
  };
  CHECK(run("relu", {}) == std::vector<float>{0.f, 0.f, 0.5f, 3.f});
  auto lr = run("leaky_relu", {});
  CHECK(lr[0] == Approx(-0.02));
  CHECK(lr[3] == 3.f);
  CHECK(run("leaky_relu", {{"slope", "0.25"}})[1] == Approx(-0.125));
  CHECK(run("tanh", {})[0] == Approx(std::tanh(-2.0)));
  CHECK(run("sigmoid", {})[3] == Approx(1 / (1 + std::exp(-3.0))));
  auto fl = build_layer("flatten");
  CHECK(fl->infer({{5, 2, 3, 4}}) == Shape{5, 24});
  CHECK(fl->infer({{5, 7}}) == Shape{5, 7});
  auto id = build_layer("identity");
  CHECK(id->infer({{5, 2, 3, 4}}) == Shape{5, 2, 3, 4});
}

TEST_CASE("is_relu: only a clamp from 0 to infinity is a ReLU (training fusion takes it)", "[layers][activation][fusion]") {
  CHECK(build_layer("relu")->is_relu());
  for (const char* type : {"relu6", "leaky_relu", "tanh", "sigmoid", "identity", "drop_path"}) {
    INFO(type);
    CHECK_FALSE(build_layer(type)->is_relu());
  }
}

TEST_CASE("merge layers: values and null input gradients", "[layers][merge]") {
  Rng rng(9);
  Tensor a({2, 1, 2, 2}), b({2, 3, 2, 2});
  fill(a, rng);
  fill(b, rng);
  auto cat = build_layer("concat");
  REQUIRE(cat->infer({a.shape(), b.shape()}) == Shape{2, 4, 2, 2});
  Tensor y({2, 4, 2, 2});
  RunContext ctx;
  cat->forward({&a, &b}, y, ctx);
  for (int64_t n = 0; n < 2; ++n) {
    for (int64_t i = 0; i < 4; ++i) CHECK(y[n * 16 + i] == a[n * 4 + i]);
    for (int64_t i = 0; i < 12; ++i) CHECK(y[n * 16 + 4 + i] == b[n * 12 + i]);
  }
  Tensor db(b.shape());
  cat->backward({&a, &b}, y, y, {nullptr, &db}, ctx);
  int64_t bad = 0;
  for (int64_t i = 0; i < b.numel(); ++i) bad += db[i] != b[i];
  CHECK(bad == 0);

  auto add = build_layer("add");
  Tensor c(a.shape()), s(a.shape()), dc(a.shape());
  fill(c, rng);
  REQUIRE(add->infer({a.shape(), c.shape(), a.shape()}) == a.shape());
  add->forward({&a, &c, &a}, s, ctx);
  for (int64_t i = 0; i < a.numel(); ++i) CHECK(s[i] == Approx(2 * a[i] + c[i]));
  add->backward({&a, &c, &a}, s, s, {nullptr, &dc, nullptr}, ctx);
  bad = 0;
  for (int64_t i = 0; i < a.numel(); ++i) bad += dc[i] != s[i];
  CHECK(bad == 0);
}

TEST_CASE("add with its ReLU: the training backward through the kept bit mask equals the output's signs",
          "[layers][add]") {
  // Planes of >= 64 values keep the ReLU's mask as bits in training (kernels/relu_mask.h); smaller
  // planes, 2-D tensors and eval forwards read the output. Every way gives relu_backward's bits.
  Rng rng(9);
  for (const Shape& shape : {Shape{2, 3, 8, 8}, Shape{2, 3, 9, 9}, Shape{3, 2, 7, 7}, Shape{4, 100}, Shape{1, 5, 33, 31}})
    for (bool train : {true, false}) {
      INFO("shape " << shape.size() << "-d, " << numel_of(shape) << " values, train " << train);
      auto add = build_layer("add");
      REQUIRE(add->infer({shape, shape}) == shape);
      REQUIRE(add->fuse_relu(true));
      Tensor a(shape), b(shape), y(shape), dy(shape), da(shape), db(shape), want(shape);
      for (Tensor* t : {&a, &b, &dy})
        for (int64_t i = 0; i < t->numel(); ++i) (*t)[i] = rng.uniform(-1.f, 1.f);
      for (int64_t i = 0; i < a.numel(); i += 7) b[i] = -a[i];  // sums of exactly 0
      dy[0] = -0.f;
      RunContext ctx;
      ctx.train = train;
      add->forward({&a, &b}, y, ctx);
      add->backward({&a, &b}, y, dy, {&da, &db}, ctx);
      relu_backward(y.data(), dy.data(), want.data(), y.numel());
      int64_t bad = 0;
      for (int64_t i = 0; i < y.numel(); ++i) {
        bad += y[i] != std::max(a[i] + b[i], 0.f);
        bad += std::memcmp(&da[i], &want[i], sizeof(float)) != 0 || std::memcmp(&db[i], &want[i], sizeof(float)) != 0;
      }
      CHECK(bad == 0);
    }
}

TEST_CASE("shape inference errors are ConfigErrors naming the layer", "[layers][errors]") {
  expect_infer_error("conv", {{"out", "6"}, {"k", "3"}, {"groups", "3"}}, {{1, 4, 8, 8}}, "groups=3");
  expect_infer_error("conv", {{"out", "5"}, {"k", "3"}, {"groups", "2"}}, {{1, 4, 8, 8}}, "groups=2");
  expect_infer_error("conv", {{"out", "4"}, {"k", "3"}}, {{1, 16}}, "N x C x H x W");
  expect_infer_error("conv", {{"out", "4"}, {"k", "5"}}, {{1, 2, 3, 3}}, "too small");
  expect_infer_error("conv", {{"out", "4"}, {"k", "3"}, {"dilation", "4"}, {"pad", "1"}}, {{1, 2, 5, 5}},
                     "too small");
  expect_infer_error("conv", {{"out", "4"}, {"k", "5"}, {"stride", "2"}}, {{1, 2, 4, 4}}, "too small");
  expect_infer_error("linear", {{"out", "10"}}, {{2, 3, 4, 4}}, "flatten");
  expect_infer_error("maxpool", {{"k", "2"}}, {{2, 8}}, "N x C x H x W");
  expect_infer_error("avgpool", {{"k", "5"}}, {{1, 1, 3, 3}}, "smaller than the pooling window");
  expect_infer_error("add", {}, {{1, 2, 3, 3}, {1, 3, 3, 3}}, "equal shape");
  expect_infer_error("concat", {}, {{1, 2, 3, 3}, {1, 3, 4, 3}}, "all but the channel");
  expect_infer_error("concat", {}, {{1, 2, 3, 3}, {1, 18}}, "equal rank");

  // Input channels / features changing after the weights exist.
  auto conv = build_layer("conv", {{"out", "4"}, {"k", "3"}}, "c1");
  conv->infer({{1, 3, 8, 8}});
  CHECK_THROWS_AS(conv->infer({{1, 5, 8, 8}}), ConfigError);
  CHECK_NOTHROW(conv->infer({{4, 3, 10, 10}}));  // batch and spatial size may change
  auto lin = build_layer("linear", {{"out", "4"}}, "fc");
  lin->infer({{1, 12}});
  CHECK_THROWS_AS(lin->infer({{1, 13}}), ConfigError);
}

TEST_CASE("argument errors are ConfigErrors", "[layers][errors]") {
  expect_make_error("conv", {{"k", "3"}}, "missing required argument 'out'");
  expect_make_error("conv", {{"out", "4"}}, "missing required argument 'k'");
  expect_make_error("maxpool", {}, "missing required argument 'k'");
  expect_make_error("avgpool", {{"stride", "2"}}, "missing required argument 'k'");
  expect_make_error("conv", {{"out", "0"}, {"k", "3"}}, "out");
  expect_make_error("conv", {{"out", "4"}, {"k", "0"}}, "k");
  expect_make_error("conv", {{"out", "4"}, {"k", "[1, 2, 3]"}}, "k");
  expect_make_error("conv", {{"out", "4"}, {"k", "3"}, {"stride", "0"}}, "stride");
  expect_make_error("conv", {{"out", "4"}, {"k", "3"}, {"pad", "-1"}}, "pad");
  expect_make_error("conv", {{"out", "4"}, {"k", "3"}, {"groups", "0"}}, "groups");
  expect_make_error("conv", {{"out", "4"}, {"k", "3"}, {"bias", "maybe"}}, "bias");
  expect_make_error("conv", {{"out", "4"}, {"k", "3"}, {"kernel", "3"}}, "unknown argument 'kernel'");
  expect_make_error("conv", {{"out", "4"}, {"k", "3"}, {"strides", "2"}}, "did you mean 'stride'");
  expect_make_error("linear", {{"out", "x"}}, "integer");
  expect_make_error("maxpool", {{"k", "2"}, {"pad", "2"}}, "pad");
  expect_make_error("maxpool", {{"k", "2"}, {"count_include_pad", "false"}}, "count_include_pad");
  expect_make_error("avgpool", {{"k", "3"}, {"stride", "0"}}, "stride");
  expect_make_error("dropout", {{"p", "1.5"}}, "p");
  expect_make_error("dropout", {{"p", "-0.1"}}, "p");
  expect_make_error("leaky_relu", {{"slope", "steep"}}, "slope");
  expect_make_error("relu", {{"inplace", "true"}}, "takes no arguments");
  expect_make_error("conv2d", {}, "unknown layer type 'conv2d'");
  expect_make_error("conv2d", {}, "did you mean 'conv'");
}
