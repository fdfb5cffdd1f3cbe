// Layers and the loss against PyTorch: tests/layers/torch_reference.safetensors holds inputs,
// parameters, upstream gradients and PyTorch's outputs and gradients (computed in float64), made
// by tests/layers/make_torch_reference.py. Each case's metadata names the engine layer and its
// arguments. Agreement is required to 1e-5 of each tensor's largest magnitude.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "../layer_builder.h"
#include "../thread_guard.h"
#include "../skip.h"
#include "core/parallel.h"
#include "io/safetensors.h"
#include "kernels/softmax.h"

using namespace cnn;
using namespace cnn::test;

namespace {

std::string reference_path() {
#ifdef CNN_SOURCE_DIR
  return std::string(CNN_SOURCE_DIR) + "/tests/layers/torch_reference.safetensors";
#else
  return "tests/layers/torch_reference.safetensors";
#endif
}

const SafetensorsFile& reference() {
  static SafetensorsFile f = [] {
    const std::string path = reference_path();
    if (!std::filesystem::exists(path))
      skip_test(path + " is missing: run /usr/bin/python3 tests/layers/make_torch_reference.py");
    return read_safetensors(path);
  }();
  return f;
}

const Tensor& get(const std::string& name) {
  const auto& t = reference().tensors;
  auto it = t.find(name);
  if (it == t.end()) FAIL("reference tensor '" << name << "' missing");
  return it->second;
}

bool has(const std::string& name) { return reference().tensors.count(name) != 0; }

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

// max |got - want| <= 1e-5 * max |want| (and the shapes agree).
void compare(const std::string& what, const Tensor& got, const Tensor& want) {
  INFO(what << ": got " << shape_str(got.shape()) << ", PyTorch " << shape_str(want.shape()));
  REQUIRE(got.shape() == want.shape());
  double scale = 0, err = 0;
  int64_t at = 0;
  for (int64_t i = 0; i < want.numel(); ++i) scale = std::max(scale, double(std::abs(want[i])));
  for (int64_t i = 0; i < want.numel(); ++i) {
    double e = std::abs(double(got[i]) - double(want[i]));
    if (!(e <= err)) err = e, at = i;
  }
  INFO("max |diff| " << err << " at " << at << " (got " << got[at] << ", PyTorch " << want[at] << "), scale "
                     << scale);
  CHECK(err <= 1e-5 * std::max(scale, 1e-3));
}

void run_layer_case(const std::string& name, const std::string& spec) {
  KeyValues kv = parse_key_values(spec);
  REQUIRE(!kv.empty());
  const std::string type = kv.front().first;
  kv.erase(kv.begin());
  auto layer = build_layer(type, kv, name);
  const Tensor& x = get(name + ".x");
  const Tensor& dout = get(name + ".dout");
  const Tensor& want_y = get(name + ".y");
  Shape ys = layer->infer({x.shape()});
  REQUIRE(ys == want_y.shape());
  std::vector<Param*> params = layer->params();
  for (Param* p : params) {
    INFO(name << "." << p->name);
    REQUIRE(has(name + "." + p->name));
    const Tensor& v = get(name + "." + p->name);
    REQUIRE(v.shape() == p->value.shape());
    p->value = v;
    p->grad.zero();
  }
  // No parameter in the file that the layer lacks.
  for (const char* pn : {"weight", "bias"}) {
    bool in_layer = false;
    for (Param* p : params) in_layer |= p->name == pn;
    CHECK(has(name + "." + pn) == in_layer);
  }
  Tensor y(ys), dx(x.shape());
  dx.fill(std::nanf(""));
  RunContext ctx;
  ctx.train = true;
  layer->forward({&x}, y, ctx);
  compare(name + " output", y, want_y);
  layer->backward({&x}, y, dout, {&dx}, ctx);
  compare(name + " input gradient", dx, get(name + ".dx"));
  for (Param* p : params) compare(name + " " + p->name + " gradient", p->grad, get(name + ".d" + p->name));
}

// Two inputs: the values and the max pool's input (tests/layers/make_torch_reference.py).
void run_unpool_case(const std::string& name, const std::string& spec) {
  KeyValues kv = parse_key_values(spec);
  kv.erase(kv.begin());
  auto layer = build_layer("max_unpool", kv, name);
  const Tensor& x = get(name + ".x");
  const Tensor& pre = get(name + ".pre");
  Shape ys = layer->infer({x.shape(), pre.shape()});
  REQUIRE(ys == get(name + ".y").shape());
  Tensor y(ys), dx(x.shape()), dpre(pre.shape());
  dx.fill(std::nanf(""));
  dpre.fill(std::nanf(""));
  RunContext ctx;
  layer->forward({&x, &pre}, y, ctx);
  compare(name + " output", y, get(name + ".y"));
  layer->backward({&x, &pre}, y, get(name + ".dout"), {&dx, &dpre}, ctx);
  compare(name + " input gradient", dx, get(name + ".dx"));
  for (int64_t i = 0; i < dpre.numel(); ++i) REQUIRE(dpre[i] == 0.0f);
}

void run_cross_entropy_case(const std::string& name, const std::string& spec) {
  KeyValues kv = parse_key_values(spec);
  double eps = 0;
  for (auto& [k, v] : kv)
    if (k == "label_smoothing") eps = std::stod(v);
  const Tensor& z = get(name + ".x");
  const Tensor& lab = get(name + ".labels");
  REQUIRE(z.ndim() == 2);
  const int64_t N = z.dim(0), K = z.dim(1);
  std::vector<int32_t> labels(static_cast<size_t>(N));
  for (int64_t i = 0; i < N; ++i) labels[size_t(i)] = int32_t(lab[i]);
  Tensor d(z.shape());
  LossResult r = softmax_cross_entropy(z.data(), labels.data(), N, K, float(eps), d.data());
  const double want = get(name + ".loss")[0];
  INFO(name << " loss " << r.loss << " vs PyTorch " << want);
  CHECK(std::abs(r.loss - want) <= 1e-5 * std::abs(want));
  compare(name + " logit gradient", d, get(name + ".dx"));
}

}  // namespace

TEST_CASE("torch parity: layers and loss match PyTorch 1.13", "[layers][torch]") {
  const auto& meta = reference().metadata;
  REQUIRE(meta.count("cases"));
  const auto cases = split(meta.at("cases"), ',');
  // The file must cover what the generator promises.
  for (const char* must : {"conv_basic", "conv_groups2", "conv_stride2", "conv_dilation2", "conv_1x3_nobias",
                           "maxpool_k3s2p1_ceil", "maxpool_k3s2p1_floor", "avgpool_k3s2p1_ceil_cip",
                           "avgpool_k3s2p1_ceil_nocip", "avgpool_k2s2p1_nocip", "linear", "leaky_relu_0.2",
                           "cross_entropy_ls0.1"}) {
    INFO(must);
    CHECK(std::find(cases.begin(), cases.end(), must) != cases.end());
  }
  // lrn (odd/even sizes, k 2 and 1), adaptive/global average pooling (overlap, upsampling).
  for (const char* must : {"lrn_size5_k2", "lrn_size5_k2_alpha1", "lrn_size4_k1", "lrn_size4_k2", "lrn_size5_k1_c3",
                           "adaptive_avgpool_7_from_13", "adaptive_avgpool_6_from_15", "adaptive_avgpool_5_from_3",
                           "adaptive_avgpool_3x4_from_10x7", "global_avgpool"}) {
    INFO(must);
    CHECK(std::find(cases.begin(), cases.end(), must) != cases.end());
  }
  // Depthwise conv (the direct kernel) and conv_transpose (stride/output_pad, groups, dilation).
  for (const char* must : {"conv_depthwise_3x3_s1", "conv_depthwise_3x3_s2", "conv_depthwise_5x5_d2",
                           "conv_depthwise_m2_nobias", "conv_transpose_s2_p1_op1", "conv_transpose_groups2",
                           "conv_transpose_dilation2", "conv_transpose_k4s2p1", "max_unpool_k2s2",
                           "max_unpool_k2s2_odd", "max_unpool_k3s2p1"}) {
    INFO(must);
    CHECK(std::find(cases.begin(), cases.end(), must) != cases.end());
  }
  for (int threads : {1, 2}) {
    ThreadGuard tg(threads);
    for (const std::string& name : cases) {
      REQUIRE(meta.count(name));
      const std::string& spec = meta.at(name);
      INFO("case " << name << " (" << spec << "), threads " << threads);
      if (spec.rfind("cross_entropy", 0) == 0) run_cross_entropy_case(name, spec);
      else if (spec.rfind("max_unpool", 0) == 0) run_unpool_case(name, spec);
      else run_layer_case(name, spec);
    }
  }
}
