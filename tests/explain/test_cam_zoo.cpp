// cnn explain works for the zoo models: the default layer is a spatial map, the default method
// is CAM exactly for the nets that end in global average pooling + one linear layer, and the
// maps of the top class are finite and not all zero. Small inputs keep this quick (ImageNet nets
// at 64 x 64, or the smallest of 112 x 112 and their own size that they take).
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <set>
#include <string>

#include <memory>

#include "config/model_spec.h"
#include "core/error.h"
#include "core/rng.h"
#include "explain/cam.h"
#include "graph/net.h"

using namespace cnn;
namespace fs = std::filesystem;

TEST_CASE("explain: default layer and method on the zoo models give finite maps") {
  // Nets whose classifier is not GAP + linear (Grad-CAM by default).
  const std::set<std::string> gradcam = {"alexnet", "alexnet-original", "lenet5", "lenet5-classic", "squeezenet1_0",
                                         "squeezenet1_1", "vgg-a-lrn", "vgg-c", "vgg11", "vgg11_bn", "vgg13",
                                         "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn", "resnet9-cifar",
                                         "airbench-cifar"};
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(std::string(CNN_SOURCE_DIR) + "/configs/models")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() > 30);
  // VGG-13/16/19 (and their _bn) are VGG-11's structure with more convs, and each costs ~3 s of
  // building its 100M-parameter classifier: vgg11 (also in test_cam_torch.cpp), vgg11_bn, vgg-a-lrn
  // and vgg-c stand for the family.
  const std::set<std::string> left_out = {"vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"};
  for (const fs::path& f : files) {
    const std::string name = f.stem().string();
    if (left_out.count(name)) continue;
    std::unique_ptr<Net> built;
    const bool large = load_model_file(f.string()).input.at(1) > 64;
    for (std::string input : {"input=[3,64,64]", "input=[3,112,112]", ""}) {  // the smallest size the net takes
      if (!large) input.clear();
      try {
        built = std::make_unique<Net>(
            load_model_file(f.string(), input.empty() ? std::vector<std::string>{} : std::vector<std::string>{input}));
        break;
      } catch (const ConfigError&) {
        if (input.empty()) throw;
      }
    }
    Net& net = *built;
    const CamLayer layer = resolve_cam_layer(net, "");
    const CamMethod method = default_cam_method(net, layer);
    INFO(name << ": layer " << layer.name << " " << layer.channels << "x" << layer.height << "x" << layer.width
              << ", method " << (method == CamMethod::cam ? "cam" : "gradcam"));
    CHECK(layer.height * layer.width > 1);
    CHECK((method == CamMethod::gradcam) == (gradcam.count(name) > 0));
    Shape in = net.spec().input;
    in.insert(in.begin(), 1);
    Tensor x(in);
    Rng rng(1);
    for (int64_t i = 0; i < x.numel(); ++i) x[i] = rng.normal();
    CamExplainer ex(net, layer, method);
    const Tensor& logits = ex.forward(x);
    int64_t top = 0;
    for (int64_t k = 1; k < logits.dim(1); ++k)
      if (logits[k] > logits[top]) top = k;
    const Tensor m = ex.maps({top});
    bool finite = true, nonzero = false;
    for (int64_t i = 0; i < m.numel(); ++i) finite &= std::isfinite(m[i]), nonzero |= m[i] != 0;
    CHECK(finite);
    CHECK(nonzero);
  }
}
