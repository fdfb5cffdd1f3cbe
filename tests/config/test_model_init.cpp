// The model's `init:` section: parsing and errors; the schemes' statistics against their
// formulas (torch.nn.init); orthogonal W W^T = I; fans computed like torch (kaiming fan_out on a
// grouped conv); precedence (per-layer over per-kind, zero_init BN, "default"); determinism per
// seed; LSUV giving unit output variance per layer.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "config/model_spec.h"
#include "config_test_util.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "data/dataset.h"
#include "graph/net.h"
#include "layers/init.h"
#include "optim/lsuv.h"

using namespace cnn;
using cnn::testing::config_error;

namespace {

ModelSpec model(const std::string& init_yaml, const std::string& layers = "") {
  const std::string l = layers.empty() ? "  - {conv: {out: 8, k: 3, pad: 1}, name: conv1}\n"
                                         "  - {bn: {}, name: bn1}\n"
                                         "  - relu\n"
                                         "  - {conv: {out: 8, k: 3, pad: 1, bias: false}, name: conv2}\n"
                                         "  - {bn: {zero_init: true}, name: bn2}\n"
                                         "  - flatten\n"
                                         "  - {linear: {out: 10}, name: fc}\n"
                                       : layers;
  return load_model_string("input: [3, 6, 6]\nlayers:\n" + l + init_yaml, "m.yaml");
}

std::string init_error(const std::string& init_yaml) {
  return config_error([&] { model(init_yaml); });
}

const Tensor& param(const Net& net, const std::string& name) {
  for (const auto& p : net.params())
    if (p.name == name) return p.param->value;
  FAIL("no parameter " << name);
  static Tensor none;
  return none;
}

struct Stats {
  double mean = 0, std = 0, min = 1e30, max = -1e30;
};

Stats stats(const Tensor& t) {
  Stats s;
  for (int64_t i = 0; i < t.numel(); ++i) {
    s.mean += t[i];
    s.min = std::min(s.min, double(t[i]));
    s.max = std::max(s.max, double(t[i]));
  }
  s.mean /= double(t.numel());
  for (int64_t i = 0; i < t.numel(); ++i) s.std += (t[i] - s.mean) * (t[i] - s.mean);
  s.std = std::sqrt(s.std / double(t.numel()));
  return s;
}

InitScheme scheme(const std::string& type) {
  InitScheme s;
  s.type = type;
  return s;
}

Param big_conv() {  // [128, 64/2, 3, 3]: fan_in = 32*9 = 288, fan_out = 128*9 = 1152 (torch's)
  Param p;
  p.name = "weight";
  p.value = Tensor({128, 32, 3, 3});
  p.init_kind = "conv";
  p.fan_in = 32 * 9;
  return p;
}

bool same(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), sizeof(float) * size_t(a.numel())) == 0;
}

}  // namespace

TEST_CASE("init: parsing kinds, per-layer overrides and lsuv", "[config][init]") {
  const ModelSpec m = model(R"(init:
  conv: {kaiming_normal: {mode: fan_out, nonlinearity: relu}}
  linear: {normal: {std: 0.01}}
  bias: zeros
  bn: ones
  layers: {fc: zeros, conv2: {xavier_uniform: {gain: 2}}, fc.bias: {constant: {value: 0.5}}}
  lsuv: {batch: 32, tol: 0.05, iters: 5}
)");
  const InitSpec& i = m.init;
  CHECK(i.conv.type == "kaiming_normal");
  CHECK(i.conv.mode == "fan_out");
  CHECK(i.conv.nonlinearity == "relu");
  CHECK(i.linear.type == "normal");
  CHECK(i.linear.std == 0.01);
  CHECK(i.bias.type == "zeros");
  CHECK(i.bn.type == "ones");
  REQUIRE(i.layers.size() == 3);
  CHECK(i.layers[0].first == "fc");
  CHECK(i.layers[1].second.gain == 2.0);
  CHECK(i.layers[2].first == "fc.bias");
  CHECK(i.layers[2].second.value == 0.5);
  CHECK(i.layers[2].second.path == "init.layers.fc.bias");
  CHECK(i.lsuv.enabled);
  CHECK(i.lsuv.batch == 32);
  CHECK(i.lsuv.tol == 0.05);
  CHECK(i.lsuv.iters == 5);
  CHECK(model("init: {lsuv: true}\n").init.lsuv.enabled);
  CHECK(model("init: {lsuv: true}\n").init.lsuv.tol == 0.1);
  CHECK(model("init: {lsuv: true}\n").init.lsuv.iters == 10);
  CHECK_FALSE(model("init: {lsuv: false}\n").init.lsuv.enabled);
  CHECK(model("").init.empty());
  // kaiming's defaults are torch's: a = 0, fan_in, leaky_relu.
  const InitScheme k = model("init: {conv: kaiming_uniform}\n").init.conv;
  CHECK(k.a == 0.0);
  CHECK(k.mode == "fan_in");
  CHECK(k.nonlinearity == "leaky_relu");
}

TEST_CASE("init: errors name the field, with did-you-mean", "[config][init][errors]") {
  CHECK(init_error("init: {conv: kaiming_normall}\n") ==
        "m.yaml:10:14: init.conv: unknown init scheme 'kaiming_normall' (did you mean 'kaiming_normal'?); known: "
        "default, xavier_uniform, xavier_normal, kaiming_uniform, kaiming_normal, orthogonal, constant, zeros, ones, "
        "normal, uniform");
  CHECK(init_error("init: {conv: {kaiming_normal: {mod: fan_out}}}\n") ==
        "m.yaml:10:32: init.conv.kaiming_normal: unknown argument 'mod' (did you mean 'mode'?); expected one of: a, "
        "mode, nonlinearity");
  CHECK(init_error("init: {conv: {kaiming_normal: {mode: fan_ot}}}\n") ==
        "m.yaml:10:38: init.conv.kaiming_normal.mode: expected one of fan_in, fan_out, got 'fan_ot' (did you mean "
        "'fan_out'?)");
  CHECK(init_error("init: {conv: {kaiming_normal: {nonlinearity: gelu}}}\n") ==
        "m.yaml:10:46: init.conv.kaiming_normal.nonlinearity: expected one of linear, conv1d, conv2d, sigmoid, tanh, "
        "relu, leaky_relu, selu, got 'gelu' (did you mean 'relu'?)");
  CHECK(init_error("init: {bias: xavier_uniform}\n") ==
        "m.yaml:10:14: init.bias: 'xavier_uniform' needs a weight with at least 2 dimensions (fan in/out); for "
        "biases and BN parameters use one of: default, zeros, ones, constant, normal, uniform");
  CHECK(init_error("init: {linear: constant}\n") == "m.yaml:10:16: init.linear.constant: missing required argument 'value'");
  CHECK(init_error("init: {linear: {zeros: {value: 1}}}\n") ==
        "m.yaml:10:25: init.linear.zeros: 'zeros' takes no arguments, got 'value'");
  CHECK(init_error("init: {linear: {normal: {std: -1}}}\n") ==
        "m.yaml:10:31: init.linear.normal.std: expected a number >= 0, got -1");
  CHECK(init_error("init: {linear: {uniform: {a: 1, b: 0}}}\n") ==
        "m.yaml:10:36: init.linear.uniform: needs a <= b, got a = 1.0 and b = 0.0");
  CHECK(init_error("init: {convs: zeros}\n") ==
        "m.yaml:10:8: init: unknown key 'convs' (did you mean 'conv'?); expected one of: conv, linear, bias, bn, "
        "layers, lsuv");
  CHECK(init_error("init: {layers: {fc1: zeros}}\n") ==
        "m.yaml:10:17: init.layers: unknown layer 'fc1' (did you mean 'fc'?): a key is a layer name (its weight) or "
        "'<layer>.<parameter>' (e.g. 'fc.bias')");
  CHECK(init_error("init: {lsuv: {tol: 0}}\n") == "m.yaml:10:20: init.lsuv.tol: expected a number > 0, got 0");
  CHECK(init_error("init: {lsuv: {iter: 3}}\n") ==
        "m.yaml:10:15: init.lsuv: unknown key 'iter' (did you mean 'iters'?); expected one of: batch, tol, iters");
  CHECK(init_error("init: [zeros]\n") ==
        "m.yaml:10:7: init: expected a mapping with any of: conv, linear, bias, bn, layers, lsuv, got [zeros]");
  // Found when the net is built: a per-layer key naming no parameter, or a scheme needing fans
  // on a 1-D parameter.
  CHECK(config_error([] { Net(model("init: {layers: {'2': zeros}}\n")).init(1); }) ==
        "m.yaml:10:22: init.layers.2: the model has no parameter '2.weight' (the layer has no parameters)");
  CHECK(config_error([] { Net(model("init: {layers: {fc.gamma: zeros}}\n")).init(1); }) ==
        "m.yaml:10:27: init.layers.fc.gamma: the model has no parameter 'fc.gamma'; the layer has: fc.weight, "
        "fc.bias");
  CHECK(config_error([] { Net(model("init: {layers: {fc.bias: orthogonal}}\n")).init(1); }) ==
        "m.yaml:10:26: init.layers.fc.bias: 'orthogonal' needs a weight with at least 2 dimensions (fan in/out), but "
        "parameter 'bias' has shape 10");
  // --set reaches init: the whole section, or new keys of an existing one (checked by the parser).
  const std::string tiny = "input: [1, 2, 2]\nlayers: [flatten, {linear: {out: 2}, name: fc}]\n";
  CHECK(load_model_string(tiny, "m.yaml", {"init={linear: zeros}"}).init.linear.type == "zeros");
  CHECK(load_model_string(tiny + "init: {bias: zeros}\n", "m.yaml", {"init.linear=ones"}).init.linear.type == "ones");
  CHECK(load_model_string(tiny + "init: {layers: {fc: ones}}\n", "m.yaml", {"init.layers.fc=zeros"})
            .init.layers[0].second.type == "zeros");
  CHECK(config_error([] {
          load_model_string("input: [1, 2, 2]\nlayers: [flatten, {linear: {out: 2}, name: fc}]\ninit: {}\n", "m.yaml",
                            {"init.lineer=zeros"});
        }) == "--set: init: unknown key 'lineer' (did you mean 'linear'?); expected one of: conv, linear, bias, bn, "
              "layers, lsuv");
}

TEST_CASE("init schemes: statistics match torch.nn.init's formulas", "[config][init]") {
  struct Case {
    std::string name;
    InitScheme s;
    double mean, std;  // expected
    double lo = -1e30, hi = 1e30;
  };
  const double fi = 288, fo = 1152;
  auto mk = [](const std::string& type, auto tweak) {
    InitScheme s = scheme(type);
    tweak(s);
    return s;
  };
  auto none = [](InitScheme&) {};
  std::vector<Case> cases;
  {
    const double std = 2.0 * std::sqrt(2.0 / (fi + fo));
    cases.push_back({"xavier_uniform gain 2", mk("xavier_uniform", [](InitScheme& s) { s.gain = 2; }), 0, std,
                     -std * std::sqrt(3.0), std * std::sqrt(3.0)});
    cases.push_back({"xavier_normal gain 2", mk("xavier_normal", [](InitScheme& s) { s.gain = 2; }), 0, std});
  }
  {
    const double std = std::sqrt(2.0) / std::sqrt(fi);
    cases.push_back({"kaiming_uniform (torch defaults: leaky_relu, a 0, fan_in)", mk("kaiming_uniform", none), 0, std,
                     -std * std::sqrt(3.0), std * std::sqrt(3.0)});
    cases.push_back({"kaiming_normal relu fan_in", mk("kaiming_normal", [](InitScheme& s) { s.nonlinearity = "relu"; }),
                     0, std});
  }
  cases.push_back({"kaiming_normal relu fan_out",
                   mk("kaiming_normal", [](InitScheme& s) { s.nonlinearity = "relu", s.mode = "fan_out"; }), 0,
                   std::sqrt(2.0) / std::sqrt(fo)});
  cases.push_back({"kaiming_normal leaky_relu a 0.2",
                   mk("kaiming_normal", [](InitScheme& s) { s.nonlinearity = "leaky_relu", s.a = 0.2; }), 0,
                   std::sqrt(2.0 / 1.04) / std::sqrt(fi)});
  cases.push_back({"kaiming_uniform linear fan_out",
                   mk("kaiming_uniform", [](InitScheme& s) { s.nonlinearity = "linear", s.mode = "fan_out"; }), 0,
                   1 / std::sqrt(fo), -std::sqrt(3.0 / fo), std::sqrt(3.0 / fo)});
  cases.push_back({"kaiming_normal tanh", mk("kaiming_normal", [](InitScheme& s) { s.nonlinearity = "tanh"; }), 0,
                   5.0 / 3.0 / std::sqrt(fi)});
  cases.push_back({"normal", mk("normal", [](InitScheme& s) { s.mean = 0.5, s.std = 0.02; }), 0.5, 0.02});
  cases.push_back({"uniform", mk("uniform", [](InitScheme& s) { s.a = -0.3, s.b = 0.7; }), 0.2, 1.0 / std::sqrt(12.0),
                   -0.3, 0.7});
  cases.push_back({"constant", mk("constant", [](InitScheme& s) { s.value = -0.25; }), -0.25, 0});
  cases.push_back({"zeros", mk("zeros", none), 0, 0});
  cases.push_back({"ones", mk("ones", none), 1, 0});
  {
    const double bound = 1 / std::sqrt(fi);
    cases.push_back({"default (PyTorch's)", mk("default", none), 0, bound / std::sqrt(3.0), -bound, bound});
  }
  {
    // Orthogonal rows of length 288 (128 <= 288): each row has unit norm, so std = 1/sqrt(288).
    cases.push_back({"orthogonal", mk("orthogonal", none), 0, 1 / std::sqrt(fi)});
  }
  for (const Case& c : cases) {
    SECTION(c.name) {
      Param p = big_conv();
      Rng rng(42);
      apply_init_scheme(p, c.s, rng);
      const Stats st = stats(p.value);
      INFO(c.name << ": mean " << st.mean << " std " << st.std << " range [" << st.min << ", " << st.max << "]");
      const double n = double(p.value.numel());  // 36864: the sample mean is within ~4 std/sqrt(n)
      CHECK(std::fabs(st.mean - c.mean) <= 4 * c.std / std::sqrt(n) + 1e-7);
      CHECK(st.std == Approx(c.std).epsilon(0.02).margin(1e-7));
      CHECK(st.min >= c.lo - 1e-6);
      CHECK(st.max <= c.hi + 1e-6);
      if (c.lo > -1e30) {  // uniform: reaches near both ends
        CHECK(st.min <= c.lo + 0.01 * (c.hi - c.lo));
        CHECK(st.max >= c.hi - 0.01 * (c.hi - c.lo));
      }
    }
  }
}

TEST_CASE("init: fans are torch's (gain formulas too)", "[config][init]") {
  CHECK(tensor_fans({128, 32, 3, 3}) == std::pair<int64_t, int64_t>{288, 1152});
  CHECK(tensor_fans({10, 84}) == std::pair<int64_t, int64_t>{84, 10});
  CHECK_THROWS(tensor_fans({10}));
  CHECK(init_gain("relu", 0) == Approx(std::sqrt(2.0)));
  CHECK(init_gain("leaky_relu", 0.01) == Approx(std::sqrt(2.0 / (1 + 0.0001))));
  CHECK(init_gain("tanh", 0) == Approx(5.0 / 3.0));
  CHECK(init_gain("selu", 0) == Approx(0.75));
  CHECK(init_gain("linear", 0) == 1.0);
  CHECK(init_gain("sigmoid", 0) == 1.0);
}

TEST_CASE("init: orthogonal gives orthonormal rows (or columns), times gain", "[config][init]") {
  for (const Shape& shape : {Shape{16, 40}, Shape{8, 4, 3, 3}, Shape{40, 16}, Shape{12, 12}}) {
    for (double gain : {1.0, 2.0}) {
      CAPTURE(shape_str(shape), gain);
      Tensor t(shape);
      Rng rng(7);
      init_orthogonal(t, gain, rng);
      const int64_t rows = shape[0], cols = t.numel() / rows;
      const bool wide = rows <= cols;
      const int64_t k = wide ? rows : cols;
      double worst = 0;
      for (int64_t i = 0; i < k; ++i)
        for (int64_t j = 0; j < k; ++j) {
          double dot = 0;
          if (wide)  // W W^T
            for (int64_t c = 0; c < cols; ++c) dot += double(t[i * cols + c]) * t[j * cols + c];
          else  // W^T W
            for (int64_t r = 0; r < rows; ++r) dot += double(t[r * cols + i]) * t[r * cols + j];
          worst = std::max(worst, std::fabs(dot - (i == j ? gain * gain : 0.0)));
        }
      CHECK(worst < 1e-5);
    }
  }
  // Deterministic per Rng seed, different across seeds.
  Tensor a({6, 10}), b({6, 10}), c({6, 10});
  Rng r1(3), r2(3), r3(4);
  init_orthogonal(a, 1, r1);
  init_orthogonal(b, 1, r2);
  init_orthogonal(c, 1, r3);
  CHECK(same(a, b));
  CHECK_FALSE(same(a, c));
}

TEST_CASE("init: kinds, per-layer precedence, zero_init BN, determinism", "[config][init]") {
  set_num_threads(1);
  const ModelSpec plain = model("");
  const ModelSpec spec = model(R"(init:
  conv: {kaiming_normal: {mode: fan_out, nonlinearity: relu}}
  linear: ones
  bias: {constant: {value: 0.125}}
  bn: {constant: {value: 0.5}}
  layers: {fc: zeros, conv1.bias: default, bn1.bias: {constant: {value: 0.25}}}
)");
  Net a(spec), b(spec), ref(plain);
  a.init(5);
  b.init(5);
  ref.init(5);
  for (size_t i = 0; i < a.params().size(); ++i) CHECK(same(a.params()[i].param->value, b.params()[i].param->value));
  // Per-layer beats per-kind: fc.weight is zeros (linear: ones would give 1).
  CHECK(stats(param(a, "fc.weight")).max == 0.0);
  CHECK(stats(param(a, "fc.weight")).min == 0.0);
  // bias: the kind applies to fc.bias (no per-layer key for it).
  CHECK(stats(param(a, "fc.bias")).min == 0.125f);
  CHECK(stats(param(a, "fc.bias")).max == 0.125f);
  // "default" keeps PyTorch's default: the same values as a net without init:.
  CHECK(same(param(a, "conv1.bias"), param(ref, "conv1.bias")));
  // bn: gammas 0.5, except a BN with zero_init: true, which stays 0; BN biases stay 0 unless named.
  CHECK(stats(param(a, "bn1.weight")).min == 0.5f);
  CHECK(stats(param(a, "bn2.weight")).max == 0.0f);
  CHECK(stats(param(a, "bn2.bias")).max == 0.0f);
  CHECK(stats(param(a, "bn1.bias")).min == 0.25f);
  // conv: kaiming fan_out, from its own stream: not the default values.
  CHECK_FALSE(same(param(a, "conv1.weight"), param(ref, "conv1.weight")));
  // Another seed changes the random schemes.
  Net c(spec);
  c.init(6);
  CHECK_FALSE(same(param(a, "conv2.weight"), param(c, "conv2.weight")));
  // Re-initializing gives the same values again.
  a.init(5);
  CHECK(same(param(a, "conv2.weight"), param(b, "conv2.weight")));
}

TEST_CASE("init: kaiming fan_out on a grouped conv uses torch's fan_out = out * k * k", "[config][init]") {
  // conv 32 -> 64, k 3, groups 4: weight [64, 8, 3, 3]; torch: fan_in = 8 * 9 = 72, fan_out = 64 * 9 = 576.
  const std::string layers = "  - {conv: {out: 64, k: 3, groups: 4}, name: c}\n";
  for (const std::string mode : {"fan_in", "fan_out"}) {
    const ModelSpec spec = load_model_string("input: [32, 5, 5]\nlayers:\n" + layers +
                                                 "init: {conv: {kaiming_normal: {mode: " + mode +
                                                 ", nonlinearity: relu}}}\n",
                                             "m.yaml");
    Net net(spec);
    net.init(1);
    const double fan = mode == "fan_in" ? 72 : 576;
    CHECK(stats(param(net, "c.weight")).std == Approx(std::sqrt(2.0 / fan)).epsilon(0.03));
  }
}

TEST_CASE("LSUV: unit output variance for every conv/linear layer on the batch", "[config][init][lsuv]") {
  set_num_threads(2);
  const std::string layers =
      "  - {conv: {out: 8, k: 3, pad: 1}, name: conv1}\n"
      "  - relu\n"
      "  - {conv: {out: 16, k: 3, stride: 2, pad: 1}, name: conv2}\n"
      "  - {bn: {}, name: bn2}\n"
      "  - relu\n"
      "  - {dropout: {p: 0.5}}\n"
      "  - flatten\n"
      "  - {linear: {out: 32}, name: fc1}\n"
      "  - relu\n"
      "  - {linear: {out: 10}, name: fc2}\n";
  const double tol = 0.05;
  const ModelSpec spec = load_model_string("input: [3, 8, 8]\nlayers:\n" + layers + "init: {lsuv: {tol: 0.05}}\n",
                                           "m.yaml");
  Net net(spec);
  net.init(9);
  // The pre-init is orthogonal: conv1's 8 rows of 27 are orthonormal.
  const Tensor& w = param(net, "conv1.weight");
  for (int i = 0; i < 8; ++i) {
    double n = 0;
    for (int j = 0; j < 27; ++j) n += double(w[i * 27 + j]) * w[i * 27 + j];
    CHECK(n == Approx(1).epsilon(1e-5));
  }
  Tensor x({16, 3, 8, 8});
  Rng rng(1);
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = 3.0f * rng.normal() + 1.0f;
  const auto bn_before = net.buffers();
  const auto recs = net.lsuv(x, tol, 10);
  REQUIRE(recs.size() == 4);
  CHECK(recs[0].scalings >= 1);  // the input has variance 9
  CHECK(recs[0].name == "conv1");
  CHECK(recs[3].name == "fc2");
  for (const auto& r : recs) {
    INFO(r.name << ": variance " << r.variance << " after " << r.scalings << " scalings");
    CHECK(std::fabs(r.variance - 1) < tol);
  }
  // A second pass finds every layer already within tolerance (the outputs are recomputed).
  for (const auto& r : net.lsuv(x, tol, 10)) {
    INFO(r.name << ": variance " << r.variance);
    CHECK(r.scalings == 0);
    CHECK(std::fabs(r.variance - 1) < tol);
  }
  // Eval mode: BN running statistics are untouched.
  for (const auto& b : net.buffers()) {
    if (b.name == "bn2.running_var") CHECK(stats(b.buffer->value).min == 1.0f);
    if (b.name == "bn2.num_batches_tracked") CHECK(b.buffer->value[0] == 0.0f);
  }
}

TEST_CASE("LSUV from the recipe: run_lsuv uses the first training batch", "[config][init][lsuv]") {
  set_num_threads(1);
  const ModelSpec spec = load_model_string(
      "input: [1, 6, 6]\nlayers:\n  - {conv: {out: 4, k: 3}, name: c}\n  - relu\n  - flatten\n"
      "  - {linear: {out: 3}, name: fc}\ninit: {lsuv: {batch: 20, tol: 0.02, iters: 20}}\n",
      "m.yaml");
  ImageDataset d;
  d.count = 50, d.channels = 1, d.height = 6, d.width = 6, d.num_classes = 3;
  Rng rng(2);
  for (int i = 0; i < 50 * 36; ++i) d.pixels.push_back(uint8_t(rng.below(256)));
  d.labels.assign(50, 0);
  DataSpec ds;
  ds.batch_size = 8;
  const MemoryDataset data(d);
  Net net(spec);
  net.init(1);
  std::string line;
  run_lsuv(net, data, ds, 1, [&](const std::string& s) { line = s; });
  CHECK_THAT(line, Catch::StartsWith("lsuv: 2 layers on 20 images"));
  // Same batch, same result: deterministic.
  Net net2(spec);
  net2.init(1);
  run_lsuv(net2, data, ds, 1, nullptr);
  for (size_t i = 0; i < net.params().size(); ++i) CHECK(same(net.params()[i].param->value, net2.params()[i].param->value));
  // Without init.lsuv nothing happens.
  Net plain(load_model_string("input: [1, 6, 6]\nlayers: [flatten, {linear: {out: 3}}]\n", "p.yaml"));
  line.clear();
  run_lsuv(plain, data, ds, 1, [&](const std::string& s) { line = s; });
  CHECK(line.empty());
}
