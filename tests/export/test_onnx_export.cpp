// ONNX export (lib/export): every layer type has an entry; every zoo config exports and passes
// ONNX's checker and strict shape inference (run inside the export); the graph's structure (the
// ops OpenCV 4.6 rejects are never written, side heads and dropout are gone, BN folding leaves no
// BatchNormalization behind a conv, metadata, dynamic batch); unsupported layers are named with
// the reason and leave no file. Runtime equality with OpenCV: tests/cli/test_export_onnx.sh.
#include <catch2/catch.hpp>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>

#include "config/model_spec.h"
#include "core/error.h"
#include "export/onnx_export.h"
#include "graph/net.h"
#include "layers/registry.h"

namespace fs = std::filesystem;
using namespace cnn;

namespace {

onnx::ModelProto parse(const std::string& bytes) {
  onnx::ModelProto m;
  REQUIRE(m.ParseFromString(bytes));
  return m;
}

int count_ops(const onnx::ModelProto& m, const std::string& op) {
  return int(std::count_if(m.graph().node().begin(), m.graph().node().end(),
                           [&](const onnx::NodeProto& n) { return n.op_type() == op; }));
}

std::string metadata(const onnx::ModelProto& m, const std::string& key) {
  for (const auto& p : m.metadata_props())
    if (p.key() == key) return p.value();
  return "";
}

std::string zoo(const std::string& name) { return std::string(CNN_SOURCE_DIR) + "/configs/models/" + name + ".yaml"; }
std::string fixture() { return std::string(CNN_SOURCE_DIR) + "/tests/export/fixtures/every_layer.yaml"; }

}  // namespace

TEST_CASE("every registered layer type has an ONNX export entry", "[export]") {
  std::set<std::string> listed;
  for (const auto& [type, never] : onnx_layer_table()) listed.insert(type);
  for (const auto& type : layer_type_names()) {
    INFO("layer type '" << type << "': add it to the table in lib/export/onnx_ops.cpp (an emitter or the reason "
                                   "it cannot be exported)");
    CHECK(listed.count(type) == 1);
  }
}

TEST_CASE("every zoo config exports to ONNX at its input size and passes ONNX's checks", "[export][zoo]") {
  // The deeper or wider twins of configs exported here (same blocks, same layer kinds) are left
  // out to keep the test short: each VGG costs seconds for its 130+ M parameters.
  const std::set<std::string> twins = {"vgg11", "vgg-a-lrn", "vgg13", "vgg16", "vgg19", "vgg13_bn", "vgg16_bn", "vgg19_bn", "vgg-c",
                                       "resnet101", "resnet152", "densenet169", "densenet201",
                                       "resnet44-cifar", "resnet56-cifar", "resnet110-cifar"};
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(fs::path(CNN_SOURCE_DIR) / "configs/models"))
    if (e.path().extension() == ".yaml" && !twins.count(e.path().stem().string()))
      names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  REQUIRE(names.size() >= 19);
  for (const auto& name : names) {
    INFO(name);
    Net net(load_model_file(zoo(name)));  // PyTorch's default init (seed 0)
    OnnxExportOptions o;
    o.fold_bn = name.find("resnet") != std::string::npos;  // both ways across the zoo
    onnx::ModelProto m = parse(onnx_model_bytes(net, o));
    CHECK(count_ops(m, "Identity") == 0);
    CHECK(count_ops(m, "Dropout") == 0);
    CHECK(m.graph().output(0).name() == "logits");
    // Side heads are dropped: no weight of theirs is written.
    for (const auto& h : net.heads())
      for (const auto& init : m.graph().initializer()) CHECK(init.name().rfind(h.name + ".", 0) != 0);
  }
}

TEST_CASE("ONNX export writes plain ops: weights as initializers, ReLU6 OpenCV can read, metadata", "[export]") {
  Net net(load_model_file(fixture()));
  OnnxExportOptions o;
  o.batch = 3;
  o.class_names = {"a", "b", "c", "d", "e"};
  for (int64_t opset : {10, 11, 13, 17}) {
    INFO("opset " << opset);
    o.opset = opset;
    onnx::ModelProto m = parse(onnx_model_bytes(net, o));
    REQUIRE(m.opset_import(0).version() == opset);
    CHECK(count_ops(m, "Identity") == 0);
    // Clip takes min/max as inputs from opset 11 on, which OpenCV 4.6 rejects.
    if (opset >= 11) CHECK(count_ops(m, "Clip") == 0);
    else CHECK(count_ops(m, "Clip") == 3);
    // Every parameter of the main path is its own initializer under its own name.
    std::set<std::string> inits;
    for (const auto& t : m.graph().initializer()) inits.insert(t.name());
    for (const auto& p : net.params()) CHECK(inits.count(p.name) == 1);
    CHECK(count_ops(m, "LRN") == 1);
    CHECK(count_ops(m, "ConvTranspose") == 1);
    CHECK(count_ops(m, "BatchNormalization") == 7);
    CHECK(metadata(m, "class_names") == R"(["a","b","c","d","e"])");
    CHECK(metadata(m, "model") == "every_layer");
    CHECK(metadata(m, "bn_folded") == "false");
    const auto& dims = m.graph().input(0).type().tensor_type().shape().dim();
    REQUIRE(dims.size() == 4);
    CHECK(dims[0].dim_value() == 3);
    CHECK(dims[2].dim_value() == 20);
  }
}

TEST_CASE("ONNX export folds BN into the conv before it, and takes a symbolic batch", "[export]") {
  Net net(load_model_file(zoo("resnet18")));
  OnnxExportOptions o;
  o.dynamic_batch = true;
  o.softmax = true;
  onnx::ModelProto plain = parse(onnx_model_bytes(net, OnnxExportOptions{}));
  CHECK(count_ops(plain, "BatchNormalization") == 20);
  o.fold_bn = true;
  onnx::ModelProto m = parse(onnx_model_bytes(net, o));
  CHECK(count_ops(m, "BatchNormalization") == 0);  // every BN of ResNet-18 follows a conv
  CHECK(count_ops(m, "Conv") == 20);
  CHECK(metadata(m, "bn_folded") == "true");
  CHECK(m.graph().input(0).type().tensor_type().shape().dim(0).dim_param() == "N");
  CHECK(m.graph().output(0).name() == "probabilities");
  CHECK(count_ops(m, "Softmax") == 1);
}

TEST_CASE("a layer ONNX cannot represent is named with the reason, and nothing is written", "[export]") {
  const std::string yaml =
      "name: t\ninput: [3, 9, 9]\nlayers:\n  - {conv: {out: 4, k: 3}, name: c}\n"
      "  - {adaptive_avgpool: {out: 2}, name: pool}\n  - flatten\n";
  Net net(load_model_string(yaml, "t.yaml"));
  const fs::path out = fs::temp_directory_path() / "cnn_test_unsupported.onnx";
  fs::remove(out);
  try {
    export_onnx(net, OnnxExportOptions{}, out.string());
    FAIL("no error");
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("t.yaml:5:") != std::string::npos);
    CHECK(msg.find("pool: cannot export adaptive_avgpool to ONNX: adaptive pooling from 7x7 to 2x2") !=
          std::string::npos);
  }
  CHECK(!fs::exists(out));
  for (const auto& e : fs::directory_iterator(out.parent_path()))
    CHECK(e.path().filename().string().rfind("cnn_test_unsupported.onnx", 0) != 0);

  OnnxExportOptions bad;
  bad.opset = 9;
  CHECK_THROWS_AS(onnx_model_bytes(net, bad), ConfigError);
}

TEST_CASE("ONNX export of avgpool with ceil mode overhanging the input is refused", "[export]") {
  // 6 -> ceil((6 + 0 - 4) / 3) + 1 = 2 windows, the second covering only 3 of its 4 rows: PyTorch
  // divides it by 3, which ONNX does not define.
  Net net(load_model_string("name: t\ninput: [1, 6, 6]\nlayers:\n  - {avgpool: {k: 4, stride: 3, ceil: true}, name: p}\n"
                            "  - flatten\n",
                            "t.yaml"));
  CHECK_THROWS_WITH(onnx_model_bytes(net, OnnxExportOptions{}),
                    Catch::Contains("p: cannot export avgpool to ONNX: avgpool with ceil: true"));
}
