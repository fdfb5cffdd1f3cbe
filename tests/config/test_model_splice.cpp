// `splice: true`: elements written out in the enclosing sequence, numbered by its positions
// (torchvision's `nn.Sequential(*layers)` built with `layers += ...`), as the VGG, SqueezeNet and
// MobileNet configs use it.
#include <catch2/catch.hpp>

#include "config/model_spec.h"
#include "config_test_util.h"

using cnn::ModelSpec;
using cnn::load_model_string;
using cnn::testing::config_error;

namespace {

std::vector<std::string> names(const ModelSpec& m) {
  std::vector<std::string> out;
  for (const auto& n : m.nodes) out.push_back(n.name);
  return out;
}

std::string arg(const ModelSpec& m, const std::string& name, const std::string& key) {
  for (const auto& n : m.nodes)
    if (n.name == name) {
      auto it = n.args.values().find(key);
      return it == n.args.values().end() ? "<absent>" : it->second.items.at(0);
    }
  return "<no node " + name + ">";
}

ModelSpec load(const std::string& text) { return load_model_string(text, "m.yaml"); }

using V = std::vector<std::string>;

}  // namespace

TEST_CASE("splice: a layers-only block contributes its layers at the next positions", "[config][model][splice]") {
  // VGG's make_layers: conv, relu, conv, relu, maxpool, ... in one flat features.N numbering.
  ModelSpec m = load(R"(input: [3, 8, 8]
blocks:
  conv3: {args: {out: 4}, layers: [{conv: {out: $out, k: 3, pad: 1}}, relu]}
  stage:
    args: {out: 4, n: 1}
    layers: [{conv3: {out: $out}, repeat: $n, splice: true}, {maxpool: {k: 2}}]
layers:
  - name: features
    layers:
      - {stage: {out: 4, n: 2}, splice: true}
      - {stage: {out: 8, n: 1}, splice: true}
      - {conv: {out: 2, k: 1}}
  - flatten
)");
  CHECK(names(m) == V{"features.0", "features.1", "features.2", "features.3", "features.4", "features.5",
                      "features.6", "features.7", "features.8", "1"});
  CHECK(m.nodes[2].type == "conv");
  CHECK(m.nodes[4].type == "maxpool");
  CHECK(arg(m, "features.5", "out") == "8");
  CHECK(m.nodes[8].inputs == std::vector<int>{7});
}

TEST_CASE("splice: layers and blocks with branches take one position per repetition", "[config][model][splice]") {
  // SqueezeNet's Fire modules and MobileNetV2's rows; the stride rule applies.
  ModelSpec m = load(R"(input: [4, 8, 8]
blocks:
  res:
    args: {out: 4, stride: 1}
    branches: [[{conv: {out: $out, k: 1, stride: $stride}, name: conv}], {shortcut: {out: $out, stride: $stride}}]
    merge: add
layers:
  - name: features
    layers:
      - relu
      - {res: {out: 4, stride: 2}, repeat: 2, splice: true}
      - {conv: {out: 4, k: 1, stride: 2}, repeat: 2, splice: true}
      - identity
      - {res: {out: 4}}
)");
  CHECK(names(m) == V{"features.0", "features.1.conv", "features.1.branch2.0", "features.1.merge",
                      "features.2.conv", "features.2.branch2.0", "features.2.merge", "features.3", "features.4",
                      "features.6.conv", "features.6.branch2.0", "features.6.merge"});
  CHECK(arg(m, "features.1.conv", "stride") == "2");
  CHECK(arg(m, "features.2.conv", "stride") == "1");  // the block's default
  CHECK(arg(m, "features.3", "stride") == "2");
  CHECK(arg(m, "features.4", "stride") == "<absent>");
}

TEST_CASE("splice: named elements of spliced layers and inline groups", "[config][model][splice]") {
  ModelSpec m = load(R"(input: [3, 8, 8]
blocks:
  sep:
    args: {out: 4}
    layers: [{conv: {out: $out, k: 1}, name: pw}, relu]
layers:
  - {layers: [{sep: {out: 4}}], repeat: 2, splice: true}     # instances at positions 0, 1
  - {layers: [{conv: {out: 2, k: 1}, name: head}, relu], splice: true}
)");
  CHECK(names(m) == V{"0.pw", "0.1", "1.pw", "1.1", "head", "3"});
  // A spliced layers-only block's named elements join the enclosing scope: twice is a duplicate.
  CHECK(config_error([] {
          load(R"(input: [3, 8, 8]
blocks:
  sep: {args: {out: 4}, layers: [{conv: {out: $out, k: 1}, name: pw}, relu]}
layers:
  - {sep: {out: 4}, repeat: 2, splice: true}
)");
        }).find("duplicate layer name 'pw'") != std::string::npos);
}

TEST_CASE("splice: false is the default, errors", "[config][model][splice]") {
  ModelSpec m = load("input: [3, 4, 4]\nlayers:\n  - {conv: {out: 2, k: 1}, repeat: 2, splice: false}\n");
  CHECK(names(m) == V{"0.0", "0.1"});
  CHECK(config_error([] { load("input: [3, 4, 4]\nlayers:\n  - {conv: {out: 2, k: 1}, splice: 2}\n"); }) ==
        "m.yaml:3:36: 0: field 'splice' expects true or false, got '2'");
  CHECK(config_error([] { load("input: [3, 4, 4]\nlayers:\n  - {conv: {out: 2, k: 1}, name: c, splice: true}\n"); })
            .find("a spliced element takes its names from the enclosing list") != std::string::npos);
  CHECK(config_error([] { load("input: [3, 4, 4]\nlayers:\n  - {conv: {out: 2, k: 1}, splize: true}\n"); })
            .find("did you mean 'splice'") != std::string::npos);
}
