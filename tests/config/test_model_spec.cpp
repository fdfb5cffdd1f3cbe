// Model config expansion: sequences, blocks, $-expressions, repeats, branches, naming.
#include <catch2/catch.hpp>

#include <algorithm>

#include "config/model_spec.h"
#include "config_test_util.h"

using cnn::ModelSpec;
using cnn::NodeSpec;
using cnn::load_model_file;
using cnn::load_model_string;
using cnn::testing::config_error;
using cnn::testing::fixture;

namespace {

std::vector<std::string> names(const ModelSpec& m) {
  std::vector<std::string> out;
  for (const auto& n : m.nodes) out.push_back(n.name);
  return out;
}

int index_of(const ModelSpec& m, const std::string& name) {
  for (size_t i = 0; i < m.nodes.size(); ++i)
    if (m.nodes[i].name == name) return static_cast<int>(i);
  FAIL("no node named " << name);
  return -1;
}

const NodeSpec& node(const ModelSpec& m, const std::string& name) { return m.nodes[index_of(m, name)]; }

std::string arg(const ModelSpec& m, const std::string& name, const std::string& key) {
  const auto& values = node(m, name).args.values();
  auto it = values.find(key);
  if (it == values.end()) return "<absent>";
  std::string out = it->second.is_list ? "[" : "";
  for (size_t i = 0; i < it->second.items.size(); ++i) out += (i ? "," : "") + it->second.items[i];
  return out + (it->second.is_list ? "]" : "");
}

using Inputs = std::vector<int>;

}  // namespace

TEST_CASE("model: a plain sequence (LeNet-5)", "[config][model]") {
  ModelSpec m = load_model_file(fixture("lenet5.yaml"));
  CHECK(m.name == "lenet5");
  CHECK(m.file == fixture("lenet5.yaml"));
  CHECK(m.input == cnn::Shape{1, 28, 28});
  CHECK(names(m) == std::vector<std::string>{"conv1", "1", "2", "conv2", "4", "5", "6", "fc1", "8", "fc2", "10", "fc3"});
  for (size_t i = 0; i < m.nodes.size(); ++i) CHECK(m.nodes[i].inputs == Inputs{static_cast<int>(i) - 1});
  const NodeSpec& c1 = node(m, "conv1");
  CHECK(c1.type == "conv");
  CHECK(c1.args.path() == "conv1");
  CHECK(c1.args.type() == "conv");
  CHECK(c1.args.loc().str() == fixture("lenet5.yaml") + ":4:5");
  CHECK(c1.args.get_int("out") == 6);
  CHECK(c1.args.get_ints("k", 2, {}) == std::vector<int64_t>{5, 5});
  CHECK(c1.args.values().at("pad").loc.str() == fixture("lenet5.yaml") + ":4:32");
  CHECK(node(m, "1").type == "relu");
  CHECK(node(m, "1").args.values().empty());
  CHECK(node(m, "1").args.loc().str() == fixture("lenet5.yaml") + ":5:5");
  CHECK(node(m, "6").type == "flatten");
  CHECK(m.text.find("name: lenet5") != std::string::npos);
}

TEST_CASE("model: a string model has no file and is named by name_for_errors", "[config][model]") {
  ModelSpec m = load_model_string("input: [1, 4, 4]\nlayers: [flatten, {linear: {out: 2}}]\n", "models/tiny.yaml");
  CHECK(m.name == "tiny");
  CHECK(m.file.empty());
  CHECK(names(m) == std::vector<std::string>{"0", "1"});
  CHECK(m.nodes[1].args.loc().str() == "models/tiny.yaml:2:19");
}

TEST_CASE("model: block arguments and $ expressions", "[config][model]") {
  ModelSpec m = load_model_string(R"(input: [3, 32, 32]
blocks:
  wide:
    args: {w: 4, act: relu, ks: [3, 3], mode: fan_out}
    layers:
      - {conv: {out: $w*4, k: $ks, pad: ($w+1)//2, stride: $w/2, init: $mode, dil: [1, $w]}, name: c}
      - $act
      - {dropout: {p: $w/8}}
layers:
  - {wide: {w: 8, act: tanh}, name: a}
  - wide
)",
                                  "m.yaml");
  CHECK(names(m) == std::vector<std::string>{"a.c", "a.1", "a.2", "1.c", "1.1", "1.2"});
  CHECK(arg(m, "a.c", "out") == "32");
  CHECK(arg(m, "a.c", "k") == "[3,3]");  // a bare $name of a list passes the list through
  CHECK(arg(m, "a.c", "pad") == "4");
  CHECK(arg(m, "a.c", "stride") == "4");
  CHECK(arg(m, "a.c", "init") == "fan_out");
  CHECK(arg(m, "a.c", "dil") == "[1,8]");
  CHECK(node(m, "a.1").type == "tanh");
  CHECK(arg(m, "a.2", "p") == "1");
  CHECK(arg(m, "1.c", "out") == "16");
  CHECK(arg(m, "1.c", "pad") == "2");
  CHECK(arg(m, "1.c", "stride") == "2");
  CHECK(node(m, "1.1").type == "relu");
  CHECK(arg(m, "1.2", "p") == "0.5");
  // Substituted values are located where they are used.
  CHECK(node(m, "a.c").args.values().at("out").loc.str() == "m.yaml:6:22");
  CHECK(node(m, "a.c").args.loc().str() == "m.yaml:6:9");
}

TEST_CASE("model: residual block, repeat, stride rule and names", "[config][model]") {
  ModelSpec m = load_model_string(R"(input: [16, 8, 8]
blocks:
  basic:
    args: {out: 16, stride: 1}
    branches:
      - - {conv: {out: $out, k: 3, stride: $stride, pad: 1}, name: conv1}
        - relu
        - {conv: {out: $out, k: 3, pad: 1}, name: conv2}
      - identity
    merge: add
    then: [relu]
  down:
    args: {out: 16, stride: 2}
    branches:
      - [{conv: {out: $out, k: 3, stride: $stride, pad: 1}, name: conv1}, relu]
      - {name: downsample, layers: [{conv: {out: $out, k: 1, stride: $stride}}, relu]}
    merge: add
layers:
  - {basic: {out: 32, stride: 2}, repeat: 3, name: layer1}
  - {down: {out: 64}, name: layer2}
)",
                                  "res.yaml");
  CHECK(names(m) == std::vector<std::string>{
                        "layer1.0.conv1", "layer1.0.branch1.1", "layer1.0.conv2", "layer1.0.merge", "layer1.0.then.0",
                        "layer1.1.conv1", "layer1.1.branch1.1", "layer1.1.conv2", "layer1.1.merge", "layer1.1.then.0",
                        "layer1.2.conv1", "layer1.2.branch1.1", "layer1.2.conv2", "layer1.2.merge", "layer1.2.then.0",
                        "layer2.conv1", "layer2.branch1.1", "layer2.downsample.0", "layer2.downsample.1",
                        "layer2.merge"});
  // stride applies to the first repetition only; the other args to all.
  CHECK(arg(m, "layer1.0.conv1", "stride") == "2");
  CHECK(arg(m, "layer1.1.conv1", "stride") == "1");
  CHECK(arg(m, "layer1.2.conv1", "stride") == "1");
  for (const char* n : {"layer1.0.conv1", "layer1.1.conv2", "layer1.2.conv2"}) CHECK(arg(m, n, "out") == "32");
  CHECK(arg(m, "layer1.0.conv2", "stride") == "<absent>");
  // DAG: the identity branch feeds the block's input straight into the merge.
  CHECK(node(m, "layer1.0.conv1").inputs == Inputs{-1});
  CHECK(node(m, "layer1.0.merge").type == "add");
  CHECK(node(m, "layer1.0.merge").inputs == Inputs{2, -1});
  CHECK(node(m, "layer1.0.merge").args.values().empty());
  CHECK(node(m, "layer1.0.merge").args.loc().str() == "res.yaml:10:5");
  CHECK(node(m, "layer1.0.merge").args.path() == "layer1.0.merge");
  CHECK(node(m, "layer1.0.then.0").inputs == Inputs{3});
  CHECK(node(m, "layer1.1.conv1").inputs == Inputs{4});
  CHECK(node(m, "layer1.1.merge").inputs == Inputs{7, 4});
  CHECK(node(m, "layer2.conv1").inputs == Inputs{14});
  CHECK(node(m, "layer2.downsample.0").inputs == Inputs{14});
  CHECK(arg(m, "layer2.downsample.0", "stride") == "2");
  CHECK(node(m, "layer2.merge").inputs == Inputs{16, 18});
}

TEST_CASE("model: inline two-branch concat group", "[config][model]") {
  ModelSpec m = load_model_string(R"(input: [3, 8, 8]
layers:
  - {conv: {out: 8, k: 1}}
  - branches:
      - [{conv: {out: 4, k: 1}}, relu]
      - [{maxpool: {k: 3, stride: 1, pad: 1}}, {conv: {out: 4, k: 1}, name: proj}]
      - identity
    merge: concat
  - flatten
)",
                                  "inc.yaml");
  CHECK(names(m) == std::vector<std::string>{"0", "1.branch1.0", "1.branch1.1", "1.branch2.0", "1.proj", "1.merge", "2"});
  CHECK(node(m, "1.branch1.0").inputs == Inputs{0});
  CHECK(node(m, "1.branch2.0").inputs == Inputs{0});
  CHECK(node(m, "1.merge").type == "concat");
  CHECK(node(m, "1.merge").inputs == Inputs{2, 4, 0});
  CHECK(node(m, "2").inputs == Inputs{5});
}

TEST_CASE("model: named inline groups, layers + branches + then, repeat of groups and layers", "[config][model]") {
  ModelSpec m = load_model_string(R"(input: [3, 8, 8]
layers:
  - {name: features, layers: [{conv: {out: 4, k: 3}}, relu, identity, {maxpool: {k: 2}}]}
  - {layers: [{conv: {out: 4, k: 1}}, relu], repeat: 2}
  - {conv: {out: 4, k: 3, stride: 2}, repeat: 2, name: c}
  - name: mix
    layers: [{conv: {out: 4, k: 1}, name: squeeze}]
    branches: [[relu], [tanh]]
    merge: add
    then: [sigmoid, {relu: {}, name: out}]
)",
                                  "g.yaml");
  CHECK(names(m) == std::vector<std::string>{"features.0", "features.1", "features.3", "1.0.0", "1.0.1", "1.1.0",
                                             "1.1.1", "c.0", "c.1", "mix.squeeze", "mix.branch1.0", "mix.branch2.0",
                                             "mix.merge", "mix.then.0", "mix.out"});
  CHECK(node(m, "features.3").inputs == Inputs{1});  // identity passes its input through
  CHECK(node(m, "1.1.0").inputs == Inputs{4});
  CHECK(arg(m, "c.0", "stride") == "2");
  CHECK(arg(m, "c.1", "stride") == "<absent>");  // a repeated layer falls back to its own default
  CHECK(node(m, "mix.branch2.0").inputs == Inputs{9});
  CHECK(node(m, "mix.merge").inputs == Inputs{10, 11});
  CHECK(node(m, "mix.out").inputs == Inputs{13});
}

TEST_CASE("model: nested blocks pass expressions of the outer block's args", "[config][model]") {
  ModelSpec m = load_model_string(R"(input: [3, 32, 32]
blocks:
  cbr:
    args: {out: 8, k: 3}
    layers: [{conv: {out: $out, k: $k, pad: $k//2}, name: conv}, {relu: {}, name: act}]
  fire:
    args: {s: 16, e: 64}
    layers: [{cbr: {out: $s, k: 1}, name: squeeze}]
    branches:
      - {cbr: {out: $e, k: 1}, name: expand1x1}
      - {cbr: {out: $e*2, k: 3}, name: expand3x3}
    merge: concat
  stage:
    args: {n: 2, s: 8}
    layers: [{fire: {s: $s, e: $s*4}, repeat: $n}]
layers:
  - {fire: {s: 8}, name: fire2}
  - {stage: {n: 2, s: 4}, name: st}
)",
                                  "sq.yaml");
  CHECK(names(m) == std::vector<std::string>{
                        "fire2.squeeze.conv", "fire2.squeeze.act", "fire2.expand1x1.conv", "fire2.expand1x1.act",
                        "fire2.expand3x3.conv", "fire2.expand3x3.act", "fire2.merge",
                        "st.0.0.squeeze.conv", "st.0.0.squeeze.act", "st.0.0.expand1x1.conv", "st.0.0.expand1x1.act",
                        "st.0.0.expand3x3.conv", "st.0.0.expand3x3.act", "st.0.0.merge",
                        "st.0.1.squeeze.conv", "st.0.1.squeeze.act", "st.0.1.expand1x1.conv", "st.0.1.expand1x1.act",
                        "st.0.1.expand3x3.conv", "st.0.1.expand3x3.act", "st.0.1.merge"});
  CHECK(arg(m, "fire2.squeeze.conv", "out") == "8");
  CHECK(arg(m, "fire2.squeeze.conv", "pad") == "0");
  CHECK(arg(m, "fire2.expand1x1.conv", "out") == "64");
  CHECK(arg(m, "fire2.expand3x3.conv", "out") == "128");
  CHECK(arg(m, "fire2.expand3x3.conv", "pad") == "1");
  CHECK(node(m, "fire2.merge").inputs == Inputs{3, 5});
  CHECK(node(m, "fire2.expand1x1.conv").inputs == Inputs{1});
  CHECK(arg(m, "st.0.1.expand3x3.conv", "out") == "32");
  CHECK(arg(m, "st.0.1.squeeze.conv", "out") == "4");
}

// ---- errors ------------------------------------------------------------------------------------

TEST_CASE("model errors: unknown layer type lists known types and blocks", "[config][model][errors]") {
  std::string e = config_error([] {
    load_model_string(R"(input: [1, 28, 28]
blocks:
  basic: {layers: [relu]}
layers:
  - {conv: {out: 6, k: 5}, name: conv1}
  - {convv: {out: 6, k: 5}, name: conv2}
)",
                      "models/x.yaml");
  });
  CHECK_THAT(e, Catch::StartsWith("models/x.yaml:6:6: conv2: unknown layer type 'convv' (did you mean 'conv'?); "
                                  "known types: "));
  CHECK_THAT(e, Catch::Contains("linear") && Catch::Contains("maxpool") && Catch::EndsWith("; blocks: basic"));

  e = config_error([] { load_model_string("input: [1, 28, 28]\nlayers:\n  - flatten\n  - rellu\n", "m.yaml"); });
  CHECK_THAT(e, Catch::StartsWith("m.yaml:4:5: 1: unknown layer type 'rellu' (did you mean 'relu'?); known types: "));
  CHECK_THAT(e, Catch::EndsWith("; no blocks defined"));
}

TEST_CASE("model errors: unknown keys with did-you-mean", "[config][model][errors]") {
  CHECK(config_error([] { load_model_string("input: [1, 28, 28]\nlayer: [relu]\n", "m.yaml"); }) ==
        "m.yaml:2:1: unknown top-level key 'layer' (did you mean 'layers'?); expected one of: name, input, args, blocks, "
        "layers, init");
  CHECK(config_error([] {
          load_model_string("input: [1, 2, 2]\nblocks:\n  b:\n    args: {x: 1}\n    layer: [relu]\nlayers: [b]\n",
                            "m.yaml");
        }) == "m.yaml:5:5: blocks.b: unknown key 'layer' (did you mean 'layers'?); expected one of: args, layers, "
              "branches, merge, then, drop_path");
  CHECK(config_error([] {
          load_model_string("input: [1, 2, 2]\nlayers:\n  - {conv: {out: 2}, nmae: c1}\n", "m.yaml");
        }) == "m.yaml:3:22: 0: unknown key 'nmae' (did you mean 'name'?)");
  CHECK(config_error([] {
          load_model_string("input: [1, 2, 2]\nlayers:\n  - {brnaches: [[relu], [tanh]], merge: add, name: g}\n",
                            "m.yaml");
        }) == "m.yaml:3:6: g: unknown key 'brnaches' (did you mean 'branches'?); expected one of: layers, branches, "
              "merge, then, drop_path, name, repeat, head, splice, repeat_from, scope");
  CHECK(config_error([] {
          load_model_string("input: [1, 2, 2]\nlayers:\n  - {conv: {out: 2}, tanh: {}}\n", "m.yaml");
        }) == "m.yaml:3:22: 0: element has more than one layer type ('conv' and 'tanh'): write one element per layer");
  CHECK(config_error([] { load_model_string("input: [1, 2, 2]\nlayers:\n  - {conv: {out: 2}, foo: 1}\n", "m.yaml"); }) ==
        "m.yaml:3:22: 0: unknown key 'foo' next to layer type 'conv': an element has one layer type or block name "
        "plus optional keys: name, repeat, head, splice, repeat_from, scope");
  CHECK(config_error([] { load_model_string("input: [1, 2, 2]\nlayers:\n  - {name: x}\n", "m.yaml"); }) ==
        "m.yaml:3:5: x: element has no layer type: expected a layer type or block name as a key, e.g. {conv: {out: "
        "8, k: 3}, name: conv1}");
  CHECK(config_error([] { load_model_string("input: [1, 2, 2]\nlayers:\n  - {conv: {out: 2, out: 3}}\n", "m.yaml"); }) ==
        "m.yaml:3:21: 0: duplicate argument 'out'");
}

TEST_CASE("model errors: YAML syntax and missing file", "[config][model][errors]") {
  std::string e = config_error([] { load_model_file(fixture("bad_syntax.yaml")); });
  CHECK_THAT(e, Catch::StartsWith(fixture("bad_syntax.yaml") + ":5:3: YAML syntax error: "));
  CHECK(config_error([] { load_model_file("no/such/model.yaml"); }) ==
        "cannot open model config 'no/such/model.yaml': No such file or directory");
  CHECK(config_error([] { load_model_string("input: [1, 2, 2]\nlayers: [relu\n", "m.yaml"); }) ==
        "m.yaml:3:1: YAML syntax error: end of sequence flow not found");
}

TEST_CASE("model errors: wrong types of fields", "[config][model][errors]") {
  CHECK(config_error([] { load_model_string("input: [1, 28]\nlayers: [relu]\n", "m.yaml"); }) ==
        "m.yaml:1:8: input: expected a list of 3 positive integers [C, H, W], got [1, 28]");
  CHECK(config_error([] { load_model_string("input: [1, 0, 2]\nlayers: [relu]\n", "m.yaml"); }) ==
        "m.yaml:1:8: input: expected a list of 3 positive integers [C, H, W], got [1, 0, 2]");
  CHECK(config_error([] { load_model_string("layers: [relu]\n", "m.yaml"); }) ==
        "m.yaml:1:1: missing required key 'input' (the per-sample shape [C, H, W])");
  CHECK(config_error([] { load_model_string("input: [1, 2, 2]\n", "m.yaml"); }) ==
        "m.yaml:1:1: missing required key 'layers' (the list of layers)");
  CHECK(config_error([] { load_model_string("input: [1, 2, 2]\nlayers: []\n", "m.yaml"); }) ==
        "m.yaml:2:9: layers: expected a non-empty list of layers, got []");
  CHECK(config_error([] { load_model_string("", "m.yaml"); }) ==
        "m.yaml: a model config must be a mapping with 'input' and 'layers', got nothing");
  CHECK(config_error([] {
          load_model_string("input: [1, 2, 2]\nlayers:\n  - {conv: {out: 2}, repeat: two, name: c}\n", "m.yaml");
        }) == "m.yaml:3:30: c: field 'repeat' expects an integer >= 1, got 'two'");
  CHECK(config_error([] { load_model_string("input: [1, 2, 2]\nlayers:\n  - {relu: {}, repeat: 0}\n", "m.yaml"); }) ==
        "m.yaml:3:24: 0: field 'repeat' expects an integer >= 1, got '0'");
  CHECK(config_error([] { load_model_string("input: [1, 2, 2]\nlayers:\n  - {conv: 5}\n", "m.yaml"); }) ==
        "m.yaml:3:12: 0: arguments of layer type 'conv' must be a mapping like {out: 8}, got '5'");
  CHECK(config_error([] { load_model_string("input: [1, 2, 2]\nlayers:\n  - {conv: {k: {a: 1}}}\n", "m.yaml"); }) ==
        "m.yaml:3:16: 0: field 'k' expects a scalar or a list of scalars, got a mapping");
  CHECK(config_error([] { load_model_string("input: [1, 2, 2]\nlayers:\n  - {conv: {k: [1, [2]]}}\n", "m.yaml"); }) ==
        "m.yaml:3:20: 0: field 'k' expects a scalar or a flat list of scalars, got [2] in a list");
  CHECK(config_error([] { load_model_string("input: [1, 2, 2]\nlayers:\n  - {conv: {k: }}\n", "m.yaml"); }) ==
        "m.yaml:3:16: 0: field 'k' has no value");
  CHECK(config_error([] { load_model_string("input: [1, 2, 2]\nlayers:\n  - {relu: {}, name: 'a b'}\n", "m.yaml"); }) ==
        "m.yaml:3:22: 0: field 'name' expects a name made of letters, digits, '_', '-' and '.', got 'a b'");
}

TEST_CASE("model errors: $ variables", "[config][model][errors]") {
  const char* text = R"(input: [1, 8, 8]
blocks:
  basic:
    args: {width: 8, stride: 1}
    layers:
      - {conv: {out: $widht*4, k: 3, stride: $stride}, name: conv1}
layers:
  - {basic: {width: 16}, name: layer1}
)";
  CHECK(config_error([&] { load_model_string(text, "m.yaml"); }) ==
        "m.yaml:6:22: layer1.conv1: field 'out': unknown variable '$widht' (did you mean 'width'?); block 'basic' has "
        "arguments: stride, width");
  CHECK(config_error([] { load_model_string("input: [1, 2, 2]\nlayers:\n  - {conv: {out: $w}}\n", "m.yaml"); }) ==
        "m.yaml:3:18: 0: field 'out': unknown variable '$w': variables can only be used inside a block, where they "
        "name the block's arguments");
  CHECK(config_error([] {
          load_model_string(
              "input: [1, 2, 2]\nblocks:\n  b:\n    args: {w: 0}\n    layers: [{conv: {out: 8/$w}}]\nlayers: [b]\n",
              "m.yaml");
        }) == "m.yaml:5:27: 0.0: field 'out': invalid expression '8/$w': division by zero");
  CHECK(config_error([] {
          load_model_string(
              "input: [1, 2, 2]\nblocks:\n  b:\n    args: {w: [1, 2]}\n    layers: [{conv: {out: $w*2}}]\nlayers: [b]\n",
              "m.yaml");
        }) == "m.yaml:5:27: 0.0: field 'out': variable '$w' is a list, not a number, in '$w*2'");
  CHECK(config_error([] {
          load_model_string(
              "input: [1, 2, 2]\nblocks:\n  b:\n    args: {w: 2}\n    layers: [{conv: {out: $w*}}]\nlayers: [b]\n",
              "m.yaml");
        }) == "m.yaml:5:27: 0.0: field 'out': invalid expression '$w*': unexpected end");
}

TEST_CASE("model errors: block arguments and definitions", "[config][model][errors]") {
  const char* blocks = R"(input: [1, 8, 8]
blocks:
  basic:
    args: {out: 16, stride: 1, need: ~}
    layers: [{conv: {out: $out, stride: $stride, k: $need}}]
layers:
)";
  CHECK(config_error([&] {
          load_model_string(std::string(blocks) + "  - {basic: {out: 32, strde: 2, need: 3}, name: layer1}\n",
                            "m.yaml");
        }) == "m.yaml:7:23: layer1: block 'basic' has no argument 'strde' (did you mean 'stride'?); block 'basic' has "
              "arguments: need, out, stride");
  CHECK(config_error([&] { load_model_string(std::string(blocks) + "  - {basic: {out: 32}}\n", "m.yaml"); }) ==
        "m.yaml:7:13: 0: block 'basic' requires argument 'need'");
  CHECK(config_error([] {
          load_model_string("input: [1, 2, 2]\nblocks:\n  conv: {layers: [relu]}\nlayers: [conv]\n", "m.yaml");
        }) == "m.yaml:3:3: blocks.conv: block 'conv' has the name of a layer type; rename the block");
  CHECK(config_error([] {
          load_model_string("input: [1, 2, 2]\nblocks:\n  a: {layers: [b]}\n  b: {layers: [relu, a]}\nlayers: [a]\n",
                            "m.yaml");
        }) == "m.yaml:3:3: 0.0.1: block 'a' uses itself (a -> b -> a)");
  CHECK(config_error([] {
          load_model_string("input: [1, 2, 2]\nblocks:\n  b:\n    args: {x: $y}\n    layers: [relu]\nlayers: [b]\n",
                            "m.yaml");
        }) == "m.yaml:4:15: blocks.b.args.x: a default cannot use '$' expressions, got '$y'");
  CHECK(config_error([] { load_model_string("input: [1, 2, 2]\nblocks:\n  b: {args: {x: 1}}\nlayers: [b]\n", "m.yaml"); }) ==
        "m.yaml:3:6: 0: a block or group needs 'layers' and/or 'branches'");
}

TEST_CASE("model errors: branches and merge", "[config][model][errors]") {
  CHECK(config_error([] {
          load_model_string("input: [1, 2, 2]\nlayers:\n  - {branches: [[relu], identity], name: g}\n", "m.yaml");
        }) == "m.yaml:3:16: g: 'branches' needs 'merge: add' or 'merge: concat'");
  CHECK(config_error([] {
          load_model_string("input: [1, 2, 2]\nlayers:\n  - {branches: [[relu], identity], merge: sum}\n", "m.yaml");
        }) == "m.yaml:3:43: 0: field 'merge' expects add or concat, got 'sum'");
  CHECK(config_error([] {
          load_model_string("input: [1, 2, 2]\nlayers:\n  - {branches: [[relu], identity], merge: ad}\n", "m.yaml");
        }) == "m.yaml:3:43: 0: field 'merge' expects add or concat, got 'ad' (did you mean 'add'?)");
  CHECK(config_error([] { load_model_string("input: [1, 2, 2]\nlayers:\n  - {layers: [relu], merge: add}\n", "m.yaml"); }) ==
        "m.yaml:3:22: 0: 'merge' without 'branches'");
  CHECK(config_error([] { load_model_string("input: [1, 2, 2]\nlayers:\n  - {branches: [[relu]], merge: add}\n", "m.yaml"); }) ==
        "m.yaml:3:16: 0: field 'branches' expects a list of at least 2 branches, got [[...]]");
  CHECK(config_error([] {
          load_model_string("input: [1, 2, 2]\nlayers:\n  - {layers: [relu], then: [relu], name: g}\n", "m.yaml");
        }) == "m.yaml:3:22: g: 'then' without 'branches': put the layers in 'layers' instead");
}

TEST_CASE("model errors: duplicate node names", "[config][model][errors]") {
  CHECK(config_error([] {
          load_model_string("input: [1, 2, 2]\nlayers:\n  - {relu: {}, name: a}\n  - {tanh: {}, name: a}\n", "m.yaml");
        }) == "m.yaml:4:5: a: duplicate layer name 'a' (first used at m.yaml:3:5)");
  CHECK(config_error([] {
          load_model_string("input: [1, 2, 2]\nlayers:\n  - {relu: {}, name: '1'}\n  - tanh\n", "m.yaml");
        }) == "m.yaml:4:5: 1: duplicate layer name '1' (first used at m.yaml:3:5)");
}

// ---- --set overrides ---------------------------------------------------------------------------

TEST_CASE("model --set: existing paths, new layer arguments", "[config][model][overrides]") {
  ModelSpec m = load_model_file(fixture("tiny_resnet.yaml"),
                                {"input=[3,64,64]", "layers.0.conv.out=32", "blocks.basic.args.stride=2",
                                 "layers.2.basic.out=24", "layers.2.repeat=3", "layers.0.conv.bias=false",
                                 "name=renamed", "layers.5.name=head"});
  CHECK(m.input == cnn::Shape{3, 64, 64});
  CHECK(m.name == "renamed");
  CHECK(arg(m, "conv1", "out") == "32");
  CHECK(arg(m, "conv1", "bias") == "false");
  CHECK(node(m, "conv1").args.values().at("out").loc.str() == "--set");
  CHECK(arg(m, "layer1.2.conv1", "out") == "24");  // repeat 2 -> 3, out 16 -> 24
  CHECK(arg(m, "layer1.2.conv1", "stride") == "2");  // the block's default stride changed
  CHECK(index_of(m, "head") == static_cast<int>(m.nodes.size()) - 1);
  // The text is the overridden document, so it can be reloaded to the same model.
  ModelSpec again = load_model_string(m.text, "again.yaml");
  CHECK(names(again) == names(m));
  CHECK(again.input == m.input);
}

TEST_CASE("model --set: errors", "[config][model][overrides]") {
  const std::string f = fixture("tiny_resnet.yaml");
  CHECK(config_error([&] { load_model_file(f, {"inptu=[3,64,64]"}); }) ==
        "--set: unknown key 'inptu' (did you mean 'input'?); keys at the top level: name, input, blocks, layers");
  CHECK(config_error([&] { load_model_file(f, {"blocks.basic.args.strid=2"}); }) ==
        "--set: unknown key 'blocks.basic.args.strid' (did you mean 'blocks.basic.args.stride'?); keys under "
        "'blocks.basic.args': out, stride");
  CHECK(config_error([&] { load_model_file(f, {"layers.9.conv.out=2"}); }) ==
        "--set: 'layers.9.conv.out': index 9 is out of range: 'layers' has 6 items");
  CHECK(config_error([&] { load_model_file(f, {"layers.x.conv.out=2"}); }) ==
        "--set: 'layers.x.conv.out': 'layers' is a list; expected an index 0..5, got 'x'");
  CHECK(config_error([&] { load_model_file(f, {"input.0.x=2"}); }) ==
        "--set: unknown key 'input.0.x': 'input.0' is '3', not a mapping or list");
  CHECK(config_error([&] { load_model_file(f, {"input"}); }) == "--set: expected key=value, got 'input'");
  CHECK(config_error([&] { load_model_file(f, {"layers..x=1"}); }) ==
        "--set: bad key 'layers..x' in 'layers..x=1': empty segment");
  CHECK_THAT(config_error([&] { load_model_file(f, {"input=[3,"}); }),
             Catch::StartsWith("--set: 'input=[3,': the value is not valid YAML: "));
  // Type errors in overridden values are located at --set.
  CHECK(config_error([&] { load_model_file(f, {"input=[3,32]"}); }) ==
        "--set: input: expected a list of 3 positive integers [C, H, W], got [3, 32]");
  CHECK(config_error([&] { load_model_file(f, {"layers.2.repeat=two"}); }) ==
        "--set: layer1: field 'repeat' expects an integer >= 1, got 'two'");
  ModelSpec m = load_model_file(f, {"layers.0.conv.out=abc"});
  CHECK(config_error([&] { node(m, "conv1").args.get_int("out"); }) ==
        "--set: conv1: field 'out' expects an integer, got 'abc'");
}
