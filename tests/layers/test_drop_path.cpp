// drop_path (stochastic depth) against torchvision.ops.StochasticDepth(p, "row") bit for bit
// (tests/layers/drop_path_reference.py, given the keep mask our layer drew from the run's Rng),
// in training and eval mode, on 2-D and 4-D inputs; how often samples are dropped; determinism.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>

#include "../float_bits.h"
#include "config/model_spec.h"
#include "core/rng.h"
#include "graph/net.h"
#include "layer_builder.h"
#include "skip.h"

using namespace cnn;
using namespace cnn::test;

namespace {

std::string run_reference(const std::string& args) {
  const std::string cmd = "/usr/bin/python3 " + std::string(CNN_SOURCE_DIR) + "/tests/layers/drop_path_reference.py " +
                          args + " 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  std::string out;
  char buf[4096];
  while (p && fgets(buf, sizeof buf, p.get())) out += buf;
  return out;
}

// Forward and backward of drop_path(p) on the reference script's x and dy, with shape `shape`
// (N x ...); returns "<out bits>\n<dx bits>\n" and the keep mask as 0/1 digits.
std::string ours(double p, const Shape& shape, bool train, uint64_t seed, std::string& keep) {
  auto layer = build_layer("drop_path", {{"p", std::to_string(p)}});
  layer->infer({shape});
  Tensor x(shape), y(shape), dy(shape), dx(shape);
  for (int64_t k = 0; k < x.numel(); ++k) {
    x[k] = float(double((k * 37) % 101) / 101.0 - 0.5);  // as python: float64, then float32
    dy[k] = float((k * 11) % 7 - 3);
  }
  Rng rng(seed);
  RunContext ctx{train, &rng};
  layer->forward({&x}, y, ctx);
  layer->backward({&x}, y, dy, {&dx}, ctx);
  keep.clear();
  const int64_t row = x.numel() / shape[0];
  for (int64_t n = 0; n < shape[0]; ++n) keep += y[n * row] == 0.f ? '0' : '1';  // x is never 0
  return hex_bits(y) + "\n" + hex_bits(dx) + "\n";
}

}  // namespace

TEST_CASE("drop_path equals torchvision's StochasticDepth (row mode) bit for bit", "[layers][drop_path]") {
  if (::access("/usr/bin/python3", X_OK) != 0 ||
      std::system("/usr/bin/python3 -c 'import torch, torchvision' >/dev/null 2>&1") != 0)
    skip_test("/usr/bin/python3 with torch and torchvision is needed for the StochasticDepth reference");
  struct Case {
    double p;
    Shape shape;
    bool train;
  };
  for (const Case& c : {Case{0.3, {8, 5}, true}, Case{0.1, {6, 2, 1, 2}, true}, Case{0.5, {4, 3, 2, 2}, true},
                        Case{1.0, {3, 4}, true}, Case{0.0, {3, 4}, true}, Case{0.3, {5, 4}, false}}) {
    INFO("p " << c.p << " shape " << shape_str(c.shape) << " train " << c.train);
    std::string keep;
    const std::string got = ours(c.p, c.shape, c.train, 7, keep);
    const int64_t row = numel_of(c.shape) / c.shape[0];
    std::ostringstream args;
    args << c.p << " " << c.shape[0] << " " << row << " " << (c.train ? keep : "eval");
    CHECK(got == run_reference(args.str()));
    if (c.p == 1.0 && c.train) CHECK(keep == std::string(size_t(c.shape[0]), '0'));
    if (c.p == 0.0 || !c.train) CHECK(keep == std::string(size_t(c.shape[0]), '1'));
  }
}

TEST_CASE("drop_path: one draw per sample from the run's Rng, p of them dropped", "[layers][drop_path]") {
  std::string a, b, c;
  ours(0.25, {4000, 3}, true, 11, a);
  ours(0.25, {4000, 3}, true, 11, b);
  ours(0.25, {4000, 3}, true, 12, c);
  CHECK(a == b);  // the same Rng state drops the same samples
  CHECK(a != c);
  const double dropped = double(std::count(a.begin(), a.end(), '0')) / double(a.size());
  CHECK(dropped == Approx(0.25).margin(0.03));
  CHECK_THROWS_WITH(build_layer("drop_path", {{"p", "1.5"}}), Catch::Contains("expects a probability in [0, 1]"));
}

TEST_CASE("drop_path in a residual block with a per-stage rate (the docs/config.md example)", "[layers][drop_path]") {
  const ModelSpec spec = load_model_string(R"(input: [4, 8, 8]
blocks:
  basic:
    args: {out: 4, stride: 1, drop: 0.0}
    branches:
      - - {conv: {out: $out, k: 3, stride: $stride, pad: 1, bias: false}, name: conv1}
        - {bn: {}, name: bn1}
        - relu
        - {drop_path: {p: $drop}, name: drop}
      - {shortcut: {out: $out, stride: $stride}, name: downsample}
    merge: add
    then: [relu]
layers:
  - {basic: {out: 4, drop: 1.0}, name: layer1}
)",
                                           "m.yaml");
  Net net(spec);
  net.init(1);
  Tensor x({2, 4, 8, 8});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = float(i % 13) - 6.f;
  Rng rng(1);
  RunContext train{true, &rng}, eval{false, nullptr};
  // p = 1: the branch is always dropped, so in training the block is relu(shortcut(x)) = relu(x)
  const Tensor& y = net.forward(x, train);
  for (int64_t i = 0; i < x.numel(); ++i) REQUIRE(y[i] == std::max(0.f, x[i]));
  const Tensor& z = net.forward(x, eval);
  bool differs = false;
  for (int64_t i = 0; i < x.numel(); ++i) differs = differs || z[i] != std::max(0.f, x[i]);
  CHECK(differs);  // evaluation keeps the branch
}
