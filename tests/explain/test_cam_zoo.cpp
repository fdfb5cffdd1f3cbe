// cnn explain works for every zoo model: the default layer is a spatial map, the default method
// is CAM exactly for the nets that end in global average pooling + one linear layer, and the
// maps of the top class are finite and not all zero. Small inputs keep this quick.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <set>
#include <string>

#include "config/model_spec.h"
#include "core/rng.h"
#include "explain/cam.h"
#include "graph/net.h"

using namespace cnn;
namespace fs = std::filesystem;

TEST_CASE("explain: default layer and method on every zoo model give finite maps") {
  // Nets whose classifier is not GAP + linear (Grad-CAM by default).
  const std::set<std::string> gradcam = {"alexnet", "alexnet-original", "lenet5", "lenet5-classic", "squeezenet1_0",
                                         "squeezenet1_1", "vgg-a-lrn", "vgg-c", "vgg11", "vgg11_bn", "vgg13",
                                         "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn", "resnet9-cifar",
                                         "airbench-cifar"};
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(std::string(CNN_SOURCE_DIR) + "/configs/models")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() > 30);
  for (const fs::path& f : files) {
    const std::string name = f.stem().string();
    ModelSpec probe = load_model_file(f.string());
    std::vector<std::string> small;
    if (probe.input.size() == 3 && probe.input[1] > 100)  // ImageNet nets: 3 x 112 x 112 (Inception v3 keeps 299: its side head needs it)
      small.push_back(name == "inception_v3" ? "input=[3,299,299]" : "input=[3,112,112]");
    Net net(load_model_file(f.string(), small));
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
