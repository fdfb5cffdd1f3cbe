// GoogLeNet, Inception v3 and DenseNet-121/169/201 (configs/models/): parameter counts and the
// state_dict's names and shapes against torchvision 0.14 (tests/models/torchvision_inception_densenet.json,
// written by scripts/models/torchvision_keys_inception_densenet.py), the side heads, one forward
// + backward pass per config at batch 2, and the two naming features these configs use
// (`repeat_from`, `scope: false`; docs/config.md).
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config_test_util.h"
#include "config/model_spec.h"
#include "core/rng.h"
#include "graph/net.h"
#include "zoo_util.h"
#include "skip.h"

namespace fs = std::filesystem;
using namespace cnn;

using cnn::test::check_state_dict;
using cnn::test::zoo_config_path;

namespace {

const nlohmann::json& reference() {
  static const std::string path = std::string(CNN_SOURCE_DIR) + "/tests/models/torchvision_inception_densenet.json";
  if (!fs::exists(path))
    skip_test(path + " is missing: run /usr/bin/python3 scripts/models/torchvision_keys_inception_densenet.py");
  static const nlohmann::json j = [] {
    std::ifstream in(path);
    REQUIRE(in.good());
    return nlohmann::json::parse(in);
  }();
  return j;
}

struct Head {
  std::string name;
  double weight;
};

struct Model {
  std::string name;
  int64_t params;            // torchvision's count (with the auxiliary heads)
  std::vector<Head> heads;
  std::string test_input;    // --set for the forward + backward test
};

const std::vector<Model>& models() {
  static const std::vector<Model> all = {
      {"googlenet", 13'004'888, {{"aux1", 0.3}, {"aux2", 0.3}}, "input=[3,96,96]"},
      // The auxiliary head needs Mixed_6e at 17 x 17, so 299 x 299 is the smallest input.
      {"inception_v3", 27'161'264, {{"AuxLogits", 0.4}}, ""},
      {"densenet121", 7'978'856, {}, "input=[3,64,64]"},
      {"densenet169", 14'149'480, {}, "input=[3,64,64]"},
      {"densenet201", 20'013'928, {}, "input=[3,64,64]"},
  };
  return all;
}

double abs_sum(const Tensor& t) {
  double s = 0;
  for (int64_t i = 0; i < t.numel(); ++i) s += std::abs(t[i]);
  return s;
}

const Param* find_param(const Net& net, const std::string& name) {
  for (const auto& p : net.params())
    if (p.name == name) return p.param;
  return nullptr;
}

std::vector<std::string> node_names(const ModelSpec& m) {
  std::vector<std::string> v;
  for (const auto& n : m.nodes) v.push_back(n.name);
  return v;
}

}  // namespace

TEST_CASE("zoo inception/densenet: parameter counts and state_dict names and shapes equal torchvision's",
          "[models][zoo]") {
  const nlohmann::json& ref = reference();
  for (const Model& m : models()) {
    INFO(m.name);
    const auto& r = ref.at("torchvision_models").at(m.name);
    ModelSpec spec = load_model_file(zoo_config_path(m.name));
    CHECK(spec.name == m.name);
    Net net(spec);
    CHECK(net.num_params() == m.params);
    CHECK(r.at("params").get<int64_t>() == m.params);
    check_state_dict(net, r);
  }
}

TEST_CASE("zoo inception/densenet: auxiliary heads", "[models][zoo]") {
  for (const Model& m : models()) {
    INFO(m.name);
    ModelSpec spec = load_model_file(zoo_config_path(m.name));
    REQUIRE(spec.heads.size() == m.heads.size());
    for (size_t i = 0; i < m.heads.size(); ++i) {
      CHECK(spec.heads[i].name == m.heads[i].name);
      CHECK(spec.heads[i].weight == m.heads[i].weight);
      // The head's logits are its last layer: the classifier.
      const std::string last = spec.nodes[size_t(spec.heads[i].node)].name;
      CHECK(last == m.heads[i].name + (m.name == "googlenet" ? ".fc2" : ".fc"));
    }
    Net net(spec);
    int64_t head_params = 0;
    for (const auto& row : net.summary())
      if (row.head) head_params += row.params;
    // GoogLeNet: 6,624,904 without the heads (torchvision's pretrained weights); Inception v3's
    // AuxLogits: conv0 + conv1 + fc.
    const int64_t expected = m.name == "googlenet" ? 13'004'888 - 6'624'904 : m.name == "inception_v3" ? 3'326'696 : 0;
    CHECK(head_params == expected);
  }
  // GoogLeNet's heads read inception4a's and inception4d's outputs (torchvision's aux1, aux2).
  ModelSpec g = load_model_file(zoo_config_path("googlenet"));
  for (const auto& n : g.nodes) {
    if (n.name == "aux1.0") CHECK(g.nodes[size_t(n.inputs.at(0))].name == "inception4a.merge");
    if (n.name == "aux2.0") CHECK(g.nodes[size_t(n.inputs.at(0))].name == "inception4d.merge");
    if (n.name == "inception4b.branch1.conv") CHECK(g.nodes[size_t(n.inputs.at(0))].name == "inception4a.merge");
  }
  ModelSpec v3 = load_model_file(zoo_config_path("inception_v3"));
  for (const auto& n : v3.nodes)
    if (n.name == "AuxLogits.0") CHECK(v3.nodes[size_t(n.inputs.at(0))].name == "Mixed_6e.merge");
}

// Batch 2 (training mode, heads included, then eval); output shapes, finite values, gradients
// reaching the first layer and the heads' classifiers.
TEST_CASE("zoo inception/densenet: forward + backward at batch 2", "[models][zoo]") {
  for (const Model& m : models()) {
    INFO(m.name << (m.test_input.empty() ? "" : " with " + m.test_input));
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::string> sets;
    if (!m.test_input.empty()) sets.push_back(m.test_input);
    ModelSpec spec = load_model_file(zoo_config_path(m.name), sets);
    Net net(spec);
    net.init(7);
    CHECK(net.output_shape() == Shape{1000});
    Shape in_shape = spec.input;
    in_shape.insert(in_shape.begin(), 2);
    Tensor x(in_shape);
    Rng rng(11);
    for (int64_t i = 0; i < x.numel(); ++i) x[i] = rng.uniform(-1.f, 1.f);
    RunContext ctx;
    ctx.train = true;
    ctx.rng = &rng;
    const Tensor& y = net.forward(x, ctx);
    REQUIRE(y.shape() == Shape{2, 1000});
    CHECK(net.first_nonfinite_activation().empty());
    auto fill = [](Tensor& g) {
      for (int64_t i = 0; i < g.numel(); ++i) g[i] = (i % 3 == 0 ? 1.f : -0.5f) / float(g.numel());
    };
    fill(net.output_grad());
    REQUIRE(net.heads().size() == m.heads.size());
    for (size_t h = 0; h < net.heads().size(); ++h) {
      CHECK(net.head_output(h).shape() == Shape{2, 1000});
      fill(net.head_grad(h));
    }
    net.zero_grad();
    net.backward(ctx);
    CHECK(net.first_nonfinite_gradient().empty());
    CHECK(abs_sum(net.params().front().param->grad) > 0);
    for (const Head& h : m.heads) {
      const Param* fc = find_param(net, h.name + (m.name == "googlenet" ? ".fc2.weight" : ".fc.weight"));
      REQUIRE(fc != nullptr);
      CHECK(abs_sum(fc->grad) > 0);
    }
    ctx.train = false;
    const Tensor& ye = net.forward(x, ctx);
    CHECK(ye.shape() == Shape{2, 1000});
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    UNSCOPED_INFO(m.name << ": " << secs << " s");
  }
}

TEST_CASE("zoo inception/densenet: GoogLeNet keeps torchvision's ceil-mode pooling sizes", "[models][zoo]") {
  // maxpool1 and the final grid as torchvision computes them (ceil_mode=True; floor would give
  // 24 and 27 after maxpool1 at 100 and 113).
  struct Row {
    int side, pool1, grid;
  };
  for (const Row& r : std::vector<Row>{{224, 56, 7}, {96, 24, 3}, {100, 25, 3}, {113, 28, 4}}) {
    INFO(r.side);
    ModelSpec spec = load_model_file(zoo_config_path("googlenet"),
                                     {"input=[3," + std::to_string(r.side) + "," + std::to_string(r.side) + "]"});
    Net net(spec);
    int seen = 0;
    for (const auto& row : net.summary()) {
      if (row.name == "maxpool1") CHECK(row.output == Shape{64, r.pool1, r.pool1});
      if (row.name == "inception5b.merge") CHECK(row.output == Shape{1024, r.grid, r.grid});
      seen += row.name == "maxpool1" || row.name == "inception5b.merge";
    }
    CHECK(seen == 2);
  }
}

TEST_CASE("zoo inception/densenet: repeat_from numbers instances <name><k>", "[config][models]") {
  const std::string doc =
      "input: [2, 4, 4]\n"
      "blocks:\n"
      "  cat:\n"
      "    args: {g: 2}\n"
      "    branches: [identity, [{conv: {out: $g, k: 1}, name: conv}]]\n"
      "    merge: concat\n"
      "layers:\n"
      "  - {cat: {g: 3}, name: layer, repeat: 3, repeat_from: 1}\n"
      "  - {conv: {out: 2, k: 1}, name: c, repeat: 2, repeat_from: 0}\n";
  ModelSpec m = load_model_string(doc, "m.yaml");
  CHECK(node_names(m) == std::vector<std::string>{"layer1.conv", "layer1.merge", "layer2.conv", "layer2.merge",
                                                  "layer3.conv", "layer3.merge", "c0", "c1"});
  Net net(m);
  CHECK(net.summary().at(5).output == Shape{2 + 3 * 3, 4, 4});  // 2 + 3 new channels per layer

  using cnn::testing::config_error;
  CHECK(config_error([] {
          load_model_string("input: [1, 2, 2]\nlayers:\n  - {conv: {out: 2}, name: c, repeat_from: 1}\n", "m.yaml");
        }) == "m.yaml:3:44: c: 'repeat_from' needs 'repeat' and 'name': it names the instances <name><k>, "
              "<name><k+1>, ...");
  CHECK(config_error([] {
          load_model_string("input: [1, 2, 2]\nlayers:\n  - {conv: {out: 2}, repeat: 2, repeat_from: 1}\n", "m.yaml");
        }) == "m.yaml:3:46: 0: 'repeat_from' needs 'repeat' and 'name': it names the instances <name><k>, "
              "<name><k+1>, ...");
  CHECK(config_error([] {
          load_model_string("input: [1, 2, 2]\nlayers:\n  - {conv: {out: 2}, name: c, repeat: 2, repeat_from: -1}\n",
                            "m.yaml");
        }) == "m.yaml:3:55: c: field 'repeat_from' expects an integer >= 0, got '-1'");
}

TEST_CASE("zoo inception/densenet: scope: false names a group's elements in the enclosing scope", "[config][models]") {
  const std::string doc =
      "input: [2, 4, 4]\n"
      "blocks:\n"
      "  e:\n"
      "    branches:\n"
      "      - [{conv: {out: 2, k: 1}, name: b_1},\n"
      "         {scope: false, branches: [{conv: {out: 3, k: 1}, name: b_2a}, [{conv: {out: 4, k: 1}}]],\n"
      "          merge: concat}]\n"
      "      - identity\n"
      "    merge: concat\n"
      "layers:\n"
      "  - {e: {}, name: M}\n";
  ModelSpec m = load_model_string(doc, "m.yaml");
  // Named elements: M.<name>; unnamed ones and the merge keep the group's own path (M.branch1.1).
  CHECK(node_names(m) == std::vector<std::string>{"M.b_1", "M.b_2a", "M.branch1.1.branch2.0", "M.branch1.1.merge",
                                                  "M.merge"});
  Net net(m);
  CHECK(net.output_shape() == Shape{3 + 4 + 2, 4, 4});

  using cnn::testing::config_error;
  CHECK(config_error([] {
          load_model_string("input: [1, 2, 2]\nlayers:\n  - {conv: {out: 2}, scope: false}\n", "m.yaml");
        }) == "m.yaml:3:29: 0: 'scope: false' applies to an inline group ({branches: ..., merge: ...})");
  CHECK(config_error([] {
          load_model_string("input: [1, 2, 2]\nlayers:\n  - {layers: [relu], scope: maybe}\n", "m.yaml");
        }) == "m.yaml:3:29: 0: field 'scope' expects true or false, got 'maybe'");
}
