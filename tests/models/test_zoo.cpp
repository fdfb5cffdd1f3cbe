// The model zoo (configs/models/): every config's parameter count and state_dict names/shapes
// against tests/models/torchvision_counts.json (scripts/models/torchvision_counts.py: torchvision
// 0.14 for the models it has, the reference PyTorch implementations for the others), the
// papers' published counts, and one forward + backward pass per config at batch 2.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <malloc.h>

#include <nlohmann/json.hpp>

#include "config/model_spec.h"
#include "core/rng.h"
#include "graph/net.h"
#include "zoo_util.h"

namespace fs = std::filesystem;
using namespace cnn;

using cnn::test::check_state_dict;
using cnn::test::zoo_config_path;

namespace {

const nlohmann::json& reference() {
  static const nlohmann::json j = [] {
    std::ifstream in(std::string(CNN_SOURCE_DIR) + "/tests/models/torchvision_counts.json");
    REQUIRE(in.good());
    return nlohmann::json::parse(in);
  }();
  return j;
}

struct ZooEntry {
  std::string name;
  bool torchvision;          // the state_dict must equal torchvision's (else the reference implementation's)
  int64_t params;            // the published / documented count
  std::string test_input;    // --set input for the forward + backward test ("" = the config's own)
  int64_t classes;
};

// Every config in configs/models/ (checked below). Counts as documented in docs/models.md.
const std::vector<ZooEntry>& zoo() {
  static const std::vector<ZooEntry> all = {
      {"lenet5", false, 61'706, "", 10},
      {"lenet5-classic", false, 61'706, "", 10},
      {"alexnet", true, 61'100'840, "input=[3,64,64]", 1000},
      {"alexnet-original", false, 60'965'224, "", 1000},  // fixed 227 x 227: fc6 expects 256 x 6 x 6
      {"vgg11", true, 132'863'336, "input=[3,32,32]", 1000},
      {"vgg13", true, 133'047'848, "input=[3,32,32]", 1000},
      {"vgg16", true, 138'357'544, "input=[3,32,32]", 1000},
      {"vgg19", true, 143'667'240, "input=[3,32,32]", 1000},
      {"vgg11_bn", true, 132'868'840, "input=[3,32,32]", 1000},
      {"vgg13_bn", true, 133'053'736, "input=[3,32,32]", 1000},
      {"vgg16_bn", true, 138'365'992, "input=[3,32,32]", 1000},
      {"vgg19_bn", true, 143'678'248, "input=[3,32,32]", 1000},
      {"vgg-a-lrn", false, 132'863'336, "input=[3,32,32]", 1000},
      {"vgg-c", false, 133'638'952, "input=[3,32,32]", 1000},
      {"resnet18", true, 11'689'512, "input=[3,64,64]", 1000},
      {"resnet34", true, 21'797'672, "input=[3,64,64]", 1000},
      {"resnet50", true, 25'557'032, "input=[3,64,64]", 1000},
      {"resnet101", true, 44'549'160, "input=[3,64,64]", 1000},
      {"resnet152", true, 60'192'808, "input=[3,64,64]", 1000},
      {"resnext50_32x4d", true, 25'028'904, "input=[3,64,64]", 1000},
      {"squeezenet1_0", true, 1'248'424, "input=[3,64,64]", 1000},
      {"squeezenet1_1", true, 1'235'496, "input=[3,64,64]", 1000},
      {"mobilenet_v1", false, 4'231'976, "input=[3,64,64]", 1000},
      {"mobilenet_v2", true, 3'504'872, "input=[3,64,64]", 1000},
      {"resnet20-cifar", false, 269'722, "", 10},
      {"resnet32-cifar", false, 464'154, "", 10},
      {"resnet44-cifar", false, 658'586, "", 10},
      {"resnet56-cifar", false, 853'018, "", 10},
      {"resnet110-cifar", false, 1'727'962, "", 10},
      {"resnet18-cifar", false, 11'173'962, "", 10},
      {"resnet9-cifar", false, 1'646'112, "", 10},
      {"airbench-cifar", false, 1'972'816, "", 10},
  };
  return all;
}

// The VGGs allocate over 1 GB each (parameters and gradients). glibc returns such blocks to the
// kernel when freed, so every net would page-fault its gigabyte in afresh, which costs more than
// the rest of the test on a virtual machine; keeping the freed heap lets the next net reuse it.
void keep_freed_memory() {
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

}  // namespace

// A config is covered here, or by another test in this directory with its own reference JSON
// (tests/models/*.json, e.g. torchvision_inception_densenet.json).
TEST_CASE("zoo: every config in configs/models has an entry here or in another tests/models JSON",
          "[models][zoo]") {
  std::set<std::string> listed;
  for (const auto& z : zoo()) listed.insert(z.name);
  for (const auto& e : fs::directory_iterator(fs::path(CNN_SOURCE_DIR) / "tests/models")) {
    if (e.path().extension() != ".json" || e.path().filename() == "torchvision_counts.json") continue;
    std::ifstream in(e.path());
    const auto j = nlohmann::json::parse(in);
    for (const char* group : {"torchvision_models", "reference_models"})
      if (j.contains(group))
        for (const auto& [name, v] : j.at(group).items()) listed.insert(name);
  }
  for (const auto& e : fs::directory_iterator(fs::path(CNN_SOURCE_DIR) / "configs/models")) {
    if (e.path().extension() != ".yaml") continue;
    INFO(e.path().string() << " has no entry in " << __FILE__ << " (count, test input) nor in a tests/models/*.json");
    CHECK(listed.count(e.path().stem().string()) == 1);
  }
  for (const auto& z : zoo()) {
    INFO(z.name);
    CHECK(fs::exists(zoo_config_path(z.name)));
  }
}

// One net per config, built at its test input (a reduced size where the parameters do not depend
// on it: global or adaptive pooling before the classifier): the parameter count and every
// state_dict key and shape, then one forward + backward pass at batch 2 with finite values.
TEST_CASE("zoo: counts and state_dict names equal torchvision's / the reference's, forward + backward",
          "[models][zoo]") {
  const nlohmann::json& ref = reference();
  keep_freed_memory();
  for (const auto& z : zoo()) {
    INFO(z.name << (z.test_input.empty() ? "" : " with " + z.test_input));
    const auto& group = ref.at(z.torchvision ? "torchvision_models" : "reference_models");
    REQUIRE(group.contains(z.name));
    const auto& r = group.at(z.name);
    std::vector<std::string> sets;
    if (!z.test_input.empty()) sets.push_back(z.test_input);
    ModelSpec spec = load_model_file(zoo_config_path(z.name), sets);
    CHECK(spec.name == z.name);
    Net net(spec);

    CHECK(net.num_params() == z.params);
    CHECK(r.at("params").get<int64_t>() == z.params);
    check_state_dict(net, r);

    CHECK(net.output_shape() == Shape{z.classes});
    Shape in_shape = spec.input;
    in_shape.insert(in_shape.begin(), 2);
    Tensor x(in_shape);
    Rng rng(11);
    for (int64_t i = 0; i < x.numel(); ++i) x[i] = rng.uniform(-1.f, 1.f);
    RunContext ctx;
    ctx.train = true;
    ctx.rng = &rng;
    const Tensor& y = net.forward(x, ctx);
    REQUIRE(y.shape() == Shape{2, z.classes});
    CHECK(net.first_nonfinite_activation().empty());
    Tensor& g = net.output_grad();
    for (int64_t i = 0; i < g.numel(); ++i) g[i] = (i % 3 == 0 ? 1.f : -0.5f) / float(g.numel());
    net.zero_grad();
    net.backward(ctx);
    CHECK(net.first_nonfinite_gradient().empty());
    // The first layer's weight received a gradient through the whole net.
    const Param* first = net.params().front().param;
    double norm = 0;
    for (int64_t i = 0; i < first->grad.numel(); ++i) norm += std::abs(first->grad[i]);
    CHECK(norm > 0);
  }
}

// The configs' own input size, except the VGGs (> 100 M parameters, mostly in the classifier,
// which the reduced input above already builds with the same shapes).
TEST_CASE("zoo: configs build at their own input size", "[models][zoo]") {
  for (const auto& z : zoo()) {
    if (z.params > 100'000'000 || z.test_input.empty()) continue;
    INFO(z.name);
    Net net(load_model_file(zoo_config_path(z.name)));
    CHECK(net.num_params() == z.params);
    CHECK(net.output_shape() == Shape{z.classes});
  }
}

TEST_CASE("zoo: MobileNet v1 width and resolution multipliers (the paper's Tables 6 and 7)", "[models][zoo]") {
  struct Row {
    std::vector<std::string> sets;
    double mparams, mmacs;  // the paper's, as printed
  };
  const std::vector<Row> rows = {
      {{}, 4.2, 569},
      {{"layers.0.mobilenet.alpha=75"}, 2.6, 325},
      {{"layers.0.mobilenet.alpha=50"}, 1.3, 149},
      {{"layers.0.mobilenet.alpha=25"}, 0.5, 41},
      {{"input=[3,192,192]"}, 4.2, 418},
      {{"input=[3,160,160]"}, 4.2, 290},
      {{"input=[3,128,128]"}, 4.2, 186},
  };
  for (const Row& r : rows) {
    INFO((r.sets.empty() ? std::string("1.0-224") : r.sets[0]));
    Net net(load_model_file(zoo_config_path("mobilenet_v1"), r.sets));
    int64_t macs = 0;
    for (const auto& l : net.summary()) macs += l.macs;
    CHECK(std::round(net.num_params() / 1e5) / 10 == Approx(r.mparams));
    CHECK(macs / 1e6 == Approx(r.mmacs).margin(1.0));  // the paper rounds or truncates
  }
}

TEST_CASE("zoo: ResNet zero_init starts the last BN of every block at zero", "[models][zoo]") {
  for (bool on : {false, true}) {
    ModelSpec spec = load_model_file(zoo_config_path("resnet18"), {std::string("blocks.basic.args.zero_init=") +
                                                               (on ? "true" : "false")});
    Net net(spec);
    int checked = 0;
    for (const auto& p : net.params()) {
      const bool last_bn = p.name.size() > 11 && p.name.substr(p.name.size() - 11) == ".bn2.weight";
      if (!last_bn) continue;
      ++checked;
      float mx = 0;
      for (int64_t i = 0; i < p.param->value.numel(); ++i) mx = std::max(mx, std::abs(p.param->value[i]));
      INFO(p.name);
      CHECK((on ? mx == 0.f : mx == 1.f));
    }
    CHECK(checked == 8);
  }
}
