// max_unpool in a model: `indices:` names an earlier max pool (scope lookup), the node gets the
// pool's input as its second input and the pool's window; errors name the field; a small
// encoder-decoder (SegNet style) builds, runs, and its gradients pass finite differences.
#include <catch2/catch.hpp>
#include <string>

#include "../gradcheck.h"
#include "config/model_spec.h"
#include "config_test_util.h"
#include "core/rng.h"
#include "graph/net.h"

using namespace cnn;
using cnn::testing::config_error;

namespace {

const char* kSegNet = R"(input: [2, 8, 8]
blocks:
  down:
    args: {out: 4}
    layers:
      - {conv: {out: $out, k: 3, pad: 1}, name: conv}
      - relu
      - {maxpool: {k: 2}, name: pool}
layers:
  - {down: {out: 3}, name: enc1}
  - {down: {out: 5}, name: enc2}
  - {conv: {out: 5, k: 1}, name: mid}
  - {max_unpool: {indices: enc2.pool}, name: unpool2}
  - {conv: {out: 3, k: 3, pad: 1}, name: dec2}
  - {max_unpool: {indices: enc1.pool}, name: unpool1}
  - {conv: {out: 2, k: 3, pad: 1}, name: dec1}
)";

int node_index(const ModelSpec& m, const std::string& name) {
  for (size_t i = 0; i < m.nodes.size(); ++i)
    if (m.nodes[i].name == name) return int(i);
  return -2;
}

}  // namespace

TEST_CASE("max_unpool: indices link to the named max pool", "[config][model][max_unpool]") {
  ModelSpec m = load_model_string(kSegNet, "segnet.yaml");
  const NodeSpec& u2 = m.nodes[size_t(node_index(m, "unpool2"))];
  CHECK(u2.type == "max_unpool");
  REQUIRE(u2.inputs.size() == 2);
  CHECK(u2.inputs[0] == node_index(m, "mid"));
  CHECK(u2.inputs[1] == node_index(m, "enc2.1"));  // the pool's input: enc2's relu
  CHECK(u2.args.values().at("k").items == std::vector<std::string>{"2"});
  const NodeSpec& u1 = m.nodes[size_t(node_index(m, "unpool1"))];
  CHECK(u1.inputs[1] == node_index(m, "enc1.1"));

  Net net(m);
  CHECK(net.output_shape() == Shape{2, 8, 8});
  auto rows = net.summary();
  CHECK(rows[size_t(node_index(m, "unpool2"))].output == Shape{5, 4, 4});
  CHECK(rows[size_t(node_index(m, "unpool1"))].output == Shape{3, 8, 8});

  // Whole-net parameter gradients by finite differences (distinct inputs: no pooling ties).
  Tensor x({2, 2, 8, 8});
  Rng rng(5);
  test::fill_distinct(x, rng);
  RunContext ctx;
  ctx.train = true;
  const Tensor& out0 = net.forward(x, ctx);
  Tensor R(out0.shape());
  test::fill_uniform(R, rng);
  net.output_grad() = R;
  net.zero_grad();
  net.backward(ctx);
  std::vector<Tensor> grads;
  std::vector<test::FdProbe> probes;
  for (const auto& p : net.params()) grads.push_back(p.param->grad);
  for (size_t i = 0; i < net.params().size(); ++i)
    probes.push_back({net.params()[i].name, net.params()[i].param->value.data(), grads[i].data(),
                      net.params()[i].param->value.numel()});
  test::FdOptions o;
  o.max_checks = 24;
  CHECK_GRADS(test::check_finite_differences([&]() -> const Tensor& { return net.forward(x, ctx); }, R, probes, o));
}

TEST_CASE("max_unpool: a pool in the same block is found by its short name", "[config][model][max_unpool]") {
  ModelSpec m = load_model_string(R"(input: [1, 6, 6]
blocks:
  updown:
    layers:
      - {maxpool: {k: 3, stride: 2, pad: 1, ceil: true}, name: pool}
      - {conv: {out: 1, k: 1}, name: conv}
      - {max_unpool: {indices: pool}, name: unpool}
layers:
  - {updown: {}, name: a}
  - {updown: {}, name: b}
)",
                                  "m.yaml");
  const NodeSpec& u = m.nodes[size_t(node_index(m, "b.unpool"))];
  CHECK(u.inputs[1] == node_index(m, "a.unpool"));  // b.pool's input
  CHECK(u.args.values().at("ceil").items == std::vector<std::string>{"true"});
  Net net(m);
  CHECK(net.output_shape() == Shape{1, 6, 6});
}

TEST_CASE("max_unpool errors name the field", "[config][model][max_unpool][errors]") {
  auto model = [](const std::string& unpool) {
    return "input: [1, 4, 4]\nlayers:\n  - {maxpool: {k: 2}, name: pool}\n  - {conv: {out: 1, k: 1}, name: c}\n  - " +
           unpool + "\n";
  };
  CHECK_THAT(config_error([&] { load_model_string(model("{max_unpool: {}, name: u}"), "m.yaml"); }),
             Catch::Contains("u: max_unpool needs 'indices: <name of an earlier maxpool layer>'"));
  CHECK_THAT(config_error([&] { load_model_string(model("{max_unpool: {indices: poool}, name: u}"), "m.yaml"); }),
             Catch::Contains("m.yaml:5:28: u: field 'indices': no earlier layer named 'poool'"));
  CHECK_THAT(config_error([&] { load_model_string(model("{max_unpool: {indices: c}, name: u}"), "m.yaml"); }),
             Catch::Contains("field 'indices': 'c' is a conv layer, expected a maxpool"));
  CHECK_THAT(config_error([&] { load_model_string(model("{max_unpool: {indices: pool, k: 3}, name: u}"), "m.yaml"); }),
             Catch::Contains("field 'k': max_unpool takes its window from the max pool 'pool'"));
  // Values of the wrong shape for the pool's output.
  CHECK_THAT(config_error([&] {
               Net net(load_model_string(
                   "input: [1, 4, 4]\nlayers:\n  - {maxpool: {k: 2}, name: pool}\n  - {maxpool: {k: 2}, name: p2}\n"
                   "  - {max_unpool: {indices: pool}, name: u}\n",
                   "m.yaml"));
             }),
             Catch::Contains("u: max_unpool input 1x1x1 does not match the max pool's output 1x2x2"));
}
