// The residual `shortcut` layer (identity / option B projection / option A zero-padding /
// MobileNetV2's optional identity) and relu6: forward values, names, MACs, errors.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "../layer_builder.h"
#include "core/error.h"
#include "core/rng.h"

using namespace cnn;
using namespace cnn::test;

namespace {

Tensor run_forward(Layer& l, const Tensor& x, bool train = false) {
  Tensor out(l.infer({x.shape()}));
  RunContext ctx;
  ctx.train = train;
  l.forward({&x}, out, ctx);
  return out;
}

Tensor ramp(const Shape& s) {
  Tensor t(s);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = float(i) * 0.25f - 1.f;
  return t;
}

}  // namespace

TEST_CASE("relu6: clamps to [0, 6], gradient only strictly inside", "[layers][relu6]") {
  auto l = build_layer("relu6");
  Tensor x({1, 6});
  const float v[6] = {-1.f, 0.f, 2.5f, 6.f, 7.f, 5.99f};
  for (int i = 0; i < 6; ++i) x[i] = v[i];
  Tensor y = run_forward(*l, x);
  const float want[6] = {0.f, 0.f, 2.5f, 6.f, 6.f, 5.99f};
  for (int i = 0; i < 6; ++i) CHECK(y[i] == want[i]);
  Tensor dy({1, 6}), dx({1, 6});
  dy.fill(1.f);
  RunContext ctx;
  l->backward({&x}, y, dy, {&dx}, ctx);
  const float dwant[6] = {0.f, 0.f, 1.f, 0.f, 0.f, 1.f};  // PyTorch hardtanh_backward
  for (int i = 0; i < 6; ++i) CHECK(dx[i] == dwant[i]);
  CHECK(l->params().empty());
}

TEST_CASE("shortcut: identity when channels match and stride is 1", "[layers][shortcut]") {
  for (const char* type : {"A", "B", "identity"}) {
    auto l = build_layer("shortcut", {{"out", "3"}, {"type", type}});
    Tensor x = ramp({2, 3, 4, 5});
    Tensor y = run_forward(*l, x);
    REQUIRE(y.shape() == x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) CHECK(y[i] == x[i]);
    CHECK(l->params().empty());
    CHECK(l->buffers().empty());
    CHECK(l->macs({x.shape()}, y.shape()) == 0);
  }
}

TEST_CASE("shortcut B: 1x1 conv + BN with torchvision's downsample names", "[layers][shortcut]") {
  auto l = build_layer("shortcut", {{"out", "4"}, {"stride", "2"}});
  Tensor x = ramp({2, 3, 5, 5});
  Shape o = l->infer({x.shape()});
  CHECK(o == Shape{2, 4, 3, 3});
  auto ps = l->params();
  REQUIRE(ps.size() == 3);
  CHECK(ps[0]->name == "0.weight");
  CHECK(ps[0]->value.shape() == Shape{4, 3, 1, 1});
  CHECK(ps[1]->name == "1.weight");
  CHECK(ps[2]->name == "1.bias");
  auto bs = l->buffers();
  REQUIRE(bs.size() == 3);
  CHECK(bs[0]->name == "1.running_mean");
  CHECK(bs[1]->name == "1.running_var");
  CHECK(bs[2]->name == "1.num_batches_tracked");
  l->infer({{7, 3, 5, 5}});  // a new batch size keeps the names
  CHECK(l->params()[0]->name == "0.weight");
  CHECK(l->macs({{1, 3, 5, 5}}, {1, 4, 3, 3}) == 4 * 3 * 3 * 3);

  // Eval: y = gamma * (W x[::2, ::2] - mean) / sqrt(var + eps) + beta.
  Rng rng(3);
  for (Param* p : ps)
    for (int64_t i = 0; i < p->value.numel(); ++i) p->value[i] = rng.uniform(-1.f, 1.f);
  for (int64_t c = 0; c < 4; ++c) {
    bs[0]->value[c] = 0.1f * float(c);
    bs[1]->value[c] = 1.f + 0.5f * float(c);
  }
  Tensor y = run_forward(*l, x, false);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t k = 0; k < 4; ++k)
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 3; ++j) {
          double acc = 0;
          for (int64_t c = 0; c < 3; ++c) acc += ps[0]->value[k * 3 + c] * x[((n * 3 + c) * 5 + 2 * i) * 5 + 2 * j];
          const double want =
              ps[1]->value[k] * (acc - bs[0]->value[k]) / std::sqrt(double(bs[1]->value[k]) + 1e-5) + ps[2]->value[k];
          CHECK(y[((n * 4 + k) * 3 + i) * 3 + j] == Approx(want).epsilon(1e-5).margin(1e-6));
        }
  // Train mode updates the inner BN's running stats and its counter.
  run_forward(*l, x, true);
  CHECK(bs[2]->value[0] == 1.f);
}

TEST_CASE("shortcut B trains as its conv and BN one after the other, the BN packed into the conv's passes",
          "[layers][shortcut]") {
  // Training, the projection gives its BN the conv's channel sums and lets the conv pack its output
  // gradient through the BN's input gradient: the same values as the two layers run apart (the
  // sums add in another order: within float rounding).
  for (int stride : {1, 2}) {
    INFO("stride " << stride);
    const KeyValues conv_kv{{"out", "48"}, {"k", "1"}, {"stride", std::to_string(stride)}, {"bias", "false"}};
    auto sc = build_layer("shortcut", {{"out", "48"}, {"stride", std::to_string(stride)}});
    auto conv = build_layer("conv", conv_kv);
    auto bn = build_layer("bn");
    const Shape xs{4, 32, 12, 12};
    const Shape ys = sc->infer({xs});
    REQUIRE(bn->infer({conv->infer({xs})}) == ys);
    REQUIRE(conv->packs_output_grad());  // the shape takes the packed path
    Rng rng(11);
    std::vector<Param*> ps = sc->params(), parts = conv->params();
    for (Param* p : bn->params()) parts.push_back(p);
    REQUIRE(ps.size() == parts.size());
    for (size_t i = 0; i < ps.size(); ++i)
      for (int64_t j = 0; j < ps[i]->value.numel(); ++j) parts[i]->value[j] = ps[i]->value[j] = rng.uniform(-1.f, 1.f);
    Tensor x(xs), dy(ys);
    for (int64_t i = 0; i < x.numel(); ++i) x[i] = rng.uniform(-1.f, 1.f);
    for (int64_t i = 0; i < dy.numel(); ++i) dy[i] = rng.uniform(-1.f, 1.f);

    RunContext ctx;
    Tensor y(ys), dx(xs);
    sc->forward({&x}, y, ctx);
    sc->backward({&x}, y, dy, {&dx}, ctx);
    Tensor mid(ys), y2(ys), dmid(ys), dx2(xs);
    conv->forward({&x}, mid, ctx);
    bn->forward({&mid}, y2, ctx);
    bn->backward({&mid}, y2, dy, {&dmid}, ctx);
    conv->backward({&x}, mid, dmid, {&dx2}, ctx);

    for (int64_t i = 0; i < y.numel(); ++i) REQUIRE(y[i] == Approx(y2[i]).epsilon(1e-4).margin(1e-5));
    for (int64_t i = 0; i < dx.numel(); ++i) REQUIRE(dx[i] == Approx(dx2[i]).epsilon(1e-4).margin(1e-5));
    for (size_t k = 0; k < ps.size(); ++k) {
      INFO(ps[k]->name);
      for (int64_t i = 0; i < ps[k]->grad.numel(); ++i)
        REQUIRE(ps[k]->grad[i] == Approx(parts[k]->grad[i]).epsilon(1e-4).margin(1e-4));
    }
    std::vector<Buffer*> bs = sc->buffers(), bs2 = bn->buffers();
    for (size_t k = 0; k < bs.size(); ++k)
      for (int64_t i = 0; i < bs[k]->value.numel(); ++i)
        REQUIRE(bs[k]->value[i] == Approx(bs2[k]->value[i]).epsilon(1e-5).margin(1e-6));
  }
}

TEST_CASE("shortcut A: subsample and zero-pad channels half before, half after", "[layers][shortcut]") {
  // akamaster: F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4)), 16 -> 32 channels.
  auto l = build_layer("shortcut", {{"out", "8"}, {"stride", "2"}, {"type", "A"}});
  Tensor x = ramp({2, 4, 5, 4});
  Tensor y = run_forward(*l, x);
  REQUIRE(y.shape() == Shape{2, 8, 3, 2});
  CHECK(l->params().empty());
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t k = 0; k < 8; ++k)
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 2; ++j) {
          const float got = y[((n * 8 + k) * 3 + i) * 2 + j];
          const float want = (k < 2 || k >= 6) ? 0.f : x[((n * 4 + (k - 2)) * 5 + 2 * i) * 4 + 2 * j];
          CHECK(got == want);
        }
  CHECK(l->macs({{1, 4, 5, 4}}, {1, 8, 3, 2}) == 0);
}

TEST_CASE("shortcut identity type: no shortcut (zeros) when the shapes differ", "[layers][shortcut]") {
  auto l = build_layer("shortcut", {{"out", "6"}, {"stride", "2"}, {"type", "identity"}});
  Tensor x = ramp({1, 4, 5, 5});
  Tensor y = run_forward(*l, x);
  REQUIRE(y.shape() == Shape{1, 6, 3, 3});
  for (int64_t i = 0; i < y.numel(); ++i) CHECK(y[i] == 0.f);
}

TEST_CASE("shortcut: argument and shape errors", "[layers][shortcut]") {
  CHECK_THROWS_WITH(build_layer("shortcut", {{"out", "4"}, {"type", "C"}}, "layer2.0.downsample"),
                    Catch::Contains("expects A (zero-padding), B"));
  CHECK_THROWS_WITH(build_layer("shortcut", {{"stride", "2"}}), Catch::Contains("out"));
  CHECK_THROWS_WITH(build_layer("shortcut", {{"out", "4"}, {"k", "1"}}), Catch::Contains("unknown argument 'k'"));
  auto a = build_layer("shortcut", {{"out", "2"}, {"stride", "2"}, {"type", "A"}}, "layer2.0.shortcut");
  CHECK_THROWS_WITH(a->infer({{1, 4, 4, 4}}), Catch::Contains("layer2.0.shortcut") && Catch::Contains("at least"));
  auto b = build_layer("shortcut", {{"out", "4"}});
  CHECK_THROWS_WITH(b->infer({{1, 4}}), Catch::Contains("N x C x H x W"));
}
