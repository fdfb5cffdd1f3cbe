// BN folding (layers/bn_fold.h): a conv followed by eval-mode BN equals the folded conv, checked
// through the engine's own layers on random data with non-trivial BN statistics.
#include <catch2/catch.hpp>

#include <cmath>

#include "config/model_spec.h"
#include "core/rng.h"
#include "layers/bn_fold.h"
#include "graph/net.h"

using namespace cnn;

namespace {

Tensor& param(Net& net, const std::string& name) {
  for (const auto& p : net.params())
    if (p.name == name) return p.param->value;
  for (const auto& b : net.buffers())
    if (b.name == name) return b.buffer->value;
  FAIL("no tensor " << name);
  static Tensor none;
  return none;
}

void fill(Tensor& t, Rng& rng, float lo, float hi) {
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = lo + (hi - lo) * float(rng.uniform());
}

}  // namespace

TEST_CASE("fold_batchnorm: conv + eval BN equals the folded conv", "[export]") {
  for (bool conv_bias : {false, true})
    for (bool affine : {false, true}) {
      INFO("conv bias " << conv_bias << ", affine " << affine);
      const std::string b = conv_bias ? "true" : "false", a = affine ? "true" : "false";
      Net net(load_model_string("name: t\ninput: [3, 7, 6]\nlayers:\n  - {conv: {out: 5, k: 3, pad: 1, groups: 1, bias: " +
                                    b + "}, name: c}\n  - {bn: {eps: 0.001, affine: " + a + "}, name: n}\n",
                                "t.yaml"));
      Net folded(load_model_string("name: f\ninput: [3, 7, 6]\nlayers:\n  - {conv: {out: 5, k: 3, pad: 1}, name: c}\n",
                                   "f.yaml"));
      Rng rng(11);
      fill(param(net, "c.weight"), rng, -0.5f, 0.5f);
      if (conv_bias) fill(param(net, "c.bias"), rng, -0.5f, 0.5f);
      if (affine) {
        fill(param(net, "n.weight"), rng, 0.5f, 1.5f);
        fill(param(net, "n.bias"), rng, -0.3f, 0.3f);
      }
      fill(param(net, "n.running_mean"), rng, -0.4f, 0.4f);
      fill(param(net, "n.running_var"), rng, 0.3f, 2.0f);
      FoldedWeights f = fold_batchnorm(param(net, "c.weight"), conv_bias ? &param(net, "c.bias") : nullptr,
                                       affine ? &param(net, "n.weight") : nullptr, affine ? &param(net, "n.bias") : nullptr,
                                       param(net, "n.running_mean"), param(net, "n.running_var"), 0.001);
      param(folded, "c.weight") = f.weight;
      param(folded, "c.bias") = f.bias;
      Tensor x({2, 3, 7, 6});
      fill(x, rng, -2.f, 2.f);
      RunContext ctx{false, nullptr};
      const Tensor want = net.forward(x, ctx);
      const Tensor& got = folded.forward(x, ctx);
      REQUIRE(got.shape() == want.shape());
      for (int64_t i = 0; i < want.numel(); ++i) CHECK(got[i] == Approx(want[i]).margin(1e-5).epsilon(1e-5));
    }
}
