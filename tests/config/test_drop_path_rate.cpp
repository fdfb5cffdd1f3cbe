// Stochastic depth from the config: `{merge: add, drop_path: p}` on a residual merge and the
// recipe's depth-scaled `train.drop_path_rate` (timm's rule: block i of N gets rate * i / (N - 1)).
// Evaluation is the identity; training keeps the expectation (kept branches scaled by 1/keep).
#include <catch2/catch.hpp>

#include <set>

#include "config/drop_path_rate.h"
#include "config/recipe.h"
#include "config_test_util.h"
#include "core/rng.h"
#include "graph/net.h"

using namespace cnn;
using cnn::testing::config_error;

namespace {

const std::string kFixtures = std::string(CNN_SOURCE_DIR) + "/tests/config/fixtures";
const std::string kResnet20 = std::string(CNN_SOURCE_DIR) + "/configs/models/resnet20-cifar.yaml";

Recipe from_string(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return load_recipe_string(text, "r.yaml", kFixtures, overrides);
}

// Every input of a node comes before it, heads point at existing nodes, names are unique.
void check_wiring(const ModelSpec& m) {
  std::set<std::string> names;
  for (size_t i = 0; i < m.nodes.size(); ++i) {
    INFO(m.nodes[i].name);
    CHECK(names.insert(m.nodes[i].name).second);
    CHECK(m.nodes[i].args.path() == m.nodes[i].name);
    for (int in : m.nodes[i].inputs) CHECK((in >= -1 && in < int(i)));
  }
  for (const HeadSpec& h : m.heads) CHECK((h.node >= 0 && size_t(h.node) < m.nodes.size()));
}

const NodeSpec* find_node(const ModelSpec& m, const std::string& name) {
  for (const NodeSpec& n : m.nodes)
    if (n.name == name) return &n;
  return nullptr;
}

// A residual model whose branches are `scale` layers: block k computes x + f_k * x. The 1x1 conv
// in front (weight set to 1 by the test) gives the net a parameter, so training mode plans gradients.
const char* kScaleBlocks = R"(model:
  input: [1, 2, 2]
  blocks:
    res:
      args: {f: 1.0}
      branches: [[{scale: {factor: $f}, name: f}], identity]
      merge: add
  layers:
    - {conv: {out: 1, k: 1, bias: false}, name: c}
    - {res: {f: 2.0}, name: b0}
    - {res: {f: 3.0}, name: b1}
    - {res: {f: 4.0}, name: b2}
)";

}  // namespace

TEST_CASE("drop_path_rate: block i of N gets rate * i / (N - 1), as timm's resnet", "[config][drop_path]") {
  const Recipe plain = from_string("model: " + kResnet20 + "\n");
  const Recipe r = from_string("model: " + kResnet20 + "\ntrain: {drop_path_rate: 0.1}\n");
  CHECK(r.train.drop_path_rate == 0.1);
  check_wiring(r.model);
  // ResNet-20: 9 residual blocks; the first gets 0 (no node), the other 8 a drop_path node.
  std::vector<std::string> merges;
  for (const NodeSpec& n : plain.model.nodes)
    if (n.type == "add") merges.push_back(n.name);
  REQUIRE(merges.size() == 9);
  CHECK(r.model.nodes.size() == plain.model.nodes.size() + 8);
  for (size_t i = 0; i < merges.size(); ++i) {
    INFO(merges[i]);
    const NodeSpec* merge = find_node(r.model, merges[i]);
    REQUIRE(merge);
    const NodeSpec& residual = r.model.nodes[size_t(merge->inputs[0])];
    const NodeSpec* before = find_node(plain.model, merges[i]);
    const std::string branch_end = plain.model.nodes[size_t(before->inputs[0])].name;  // bn2 of the block
    const double timm = 0.1 * double(i) / double(9 - 1);  // resnet.py: drop_path_rate * net_block_idx / (N - 1)
    if (i == 0) {
      CHECK(residual.name == branch_end);
      continue;
    }
    const std::string block = merges[i].substr(0, merges[i].size() - std::string(".merge").size());
    CHECK(residual.name == block + ".drop_path");
    CHECK(residual.type == "drop_path");
    CHECK(residual.args.get_float("p") == timm);
    CHECK(r.model.nodes[size_t(residual.inputs[0])].name == branch_end);
    CHECK(r.model.nodes[size_t(merge->inputs[1])].name == plain.model.nodes[size_t(before->inputs[1])].name);
  }
  CHECK(find_node(r.model, "layer3.2.drop_path")->args.get_float("p") == 0.1);
  CHECK(cfg::drop_path_rate_of(0.1, 0, 1) == 0.0);  // one block: linspace(0, rate, 1) = [0]
  // The resolved recipe keeps the rate and reloads to the same nodes.
  CHECK(r.resolved_yaml.find("drop_path_rate: 0.1\n") != std::string::npos);
  const Recipe again = load_recipe_string(r.resolved_yaml, "resolved.yaml", kFixtures);
  REQUIRE(again.model.nodes.size() == r.model.nodes.size());
  for (size_t i = 0; i < r.model.nodes.size(); ++i) CHECK(again.model.nodes[i].name == r.model.nodes[i].name);
  // No parameters: the same state_dict names and shapes.
  Net a(plain.model), b(r.model);
  CHECK(a.num_params() == b.num_params());
}

TEST_CASE("drop_path shorthand beside merge: add", "[config][drop_path]") {
  const Recipe r = from_string(R"(model:
  input: [1, 2, 2]
  blocks:
    res:
      args: {drop: 0.0}
      branches: [[{scale: {factor: 2}, name: f}], identity]
      merge: add
      drop_path: $drop
  layers:
    - {res: {drop: 0.25}, name: b0}
    - {branches: [[{scale: {factor: 3}}], identity], merge: add, drop_path: 0.5, name: b1}
)");
  check_wiring(r.model);
  const NodeSpec* d0 = find_node(r.model, "b0.drop_path");
  const NodeSpec* d1 = find_node(r.model, "b1.drop_path");
  REQUIRE(d0);
  REQUIRE(d1);
  CHECK(d0->args.get_float("p") == 0.25);
  CHECK(d1->args.get_float("p") == 0.5);
  CHECK(r.model.nodes[size_t(d0->inputs[0])].name == "b0.f");
  CHECK(find_node(r.model, "b0.merge")->inputs[0] == int(d0 - r.model.nodes.data()));

  auto model_error = [](const std::string& layers) {
    return config_error([&] { load_model_string("input: [1, 2, 2]\nlayers:\n" + layers, "m.yaml"); });
  };
  CHECK(model_error("  - {branches: [[relu], identity], merge: add, drop_path: 1.5}\n") ==
        "m.yaml:3:59: 0: field 'drop_path' expects a probability in [0, 1), got 1.5");
  CHECK(model_error("  - {branches: [[relu], identity], merge: add, drop_path: [0.1]}\n") ==
        "m.yaml:3:59: 0: field 'drop_path' expects a probability in [0, 1), got [0.1]");
  CHECK(model_error("  - {branches: [[relu], identity], merge: concat, drop_path: 0.1}\n") ==
        "m.yaml:3:51: 0: 'drop_path' applies to 'merge: add' (it drops the first branch, the residual one)");
  CHECK(model_error("  - {layers: [relu], drop_path: 0.1}\n") ==
        "m.yaml:3:22: 0: 'drop_path' without 'branches' and 'merge: add'");
}

TEST_CASE("drop_path_rate: a block's own drop_path wins, bad rates name the field", "[config][drop_path][errors]") {
  const Recipe r = from_string(std::string(kScaleBlocks) + "train: {drop_path_rate: 0.4}\n");
  CHECK(find_node(r.model, "b0.drop_path") == nullptr);
  CHECK(find_node(r.model, "b1.drop_path")->args.get_float("p") == 0.2);
  CHECK(find_node(r.model, "b2.drop_path")->args.get_float("p") == 0.4);
  // b1 sets its own rate (0 included): the recipe's rate leaves it alone.
  const Recipe own = from_string(R"(model:
  input: [1, 2, 2]
  layers:
    - {branches: [[{scale: {factor: 2}}], identity], merge: add, name: b0}
    - {branches: [[{scale: {factor: 2}}], identity], merge: add, drop_path: 0.0, name: b1}
    - {branches: [[{scale: {factor: 2}}], identity], merge: add, name: b2}
train: {drop_path_rate: 0.3}
)");
  check_wiring(own.model);
  CHECK(find_node(own.model, "b1.drop_path")->args.get_float("p") == 0.0);
  CHECK(find_node(own.model, "b2.drop_path")->args.get_float("p") == 0.3);

  CHECK(config_error([] { from_string("model: lenet5.yaml\ntrain: {drop_path_rate: 1.0}\n"); }) ==
        "r.yaml:2:25: train.drop_path_rate: expected a number in [0, 1) (0: off), got 1.0");
  CHECK(config_error([] { from_string("model: lenet5.yaml\n", {"train.drop_path_rate=-0.1"}); }) ==
        "--set: train.drop_path_rate: expected a number in [0, 1) (0: off), got -0.1");
  CHECK(from_string("model: lenet5.yaml\n").train.drop_path_rate == 0.0);
}

TEST_CASE("drop_path_rate: evaluation is the identity, training keeps the expectation", "[config][drop_path]") {
  const Recipe plain = from_string(kScaleBlocks);
  const Recipe r = from_string(std::string(kScaleBlocks) + "train: {drop_path_rate: 0.5}\n");
  // Rates 0, 0.25, 0.5. Each sample is x = 1 everywhere; block k is y + f_k * y, or y when dropped,
  // with kept branches scaled by 1 / (1 - p).
  const int64_t n = 4000;
  Tensor x({n, 1, 2, 2});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = 1.f;
  Net a(plain.model), b(r.model);
  for (Net* net : {&a, &b}) {
    net->init(1);
    REQUIRE(net->params().size() == 1);
    Tensor& w = net->params()[0].param->value;
    for (int64_t i = 0; i < w.numel(); ++i) w[i] = 1.f;
  }
  RunContext eval{false, nullptr};
  const Tensor ya = a.forward(x, eval);
  const Tensor& yb = b.forward(x, eval);
  for (int64_t i = 0; i < x.numel(); ++i) REQUIRE(yb[i] == ya[i]);  // 1 * 3 * 4 * 5 = 60
  CHECK(ya[0] == 60.f);

  Rng rng(3);
  RunContext train{true, &rng};
  const Tensor& yt = b.forward(x, train);
  // Block 1 (f = 3, p = 0.25): x 1 + 3/0.75 = 5 or 1; block 2 (f = 4, p = 0.5): x 1 + 4/0.5 = 9 or 1.
  const std::set<float> possible = {3.f * 5.f * 9.f, 3.f * 5.f, 3.f * 9.f, 3.f};
  double sum = 0;
  for (int64_t s = 0; s < n; ++s) {
    const float v = yt[s * 4];
    REQUIRE(possible.count(v) == 1);
    for (int64_t j = 1; j < 4; ++j) REQUIRE(yt[s * 4 + j] == v);  // one draw per sample
    sum += v;
  }
  // E = 3 * (0.75 * 5 + 0.25 * 1) * (0.5 * 9 + 0.5 * 1) = 3 * 4 * 5 = 60, the eval output.
  // Standard deviation of one sample ~ 44, of the mean of 4000 ~ 0.7.
  CHECK(sum / double(n) == Approx(60.0).margin(3.0));
}
