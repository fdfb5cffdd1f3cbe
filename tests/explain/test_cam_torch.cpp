// Grad-CAM against pytorch-grad-cam's definition, computed with torch by
// tests/explain/make_cam_reference.py (ReLU of the gradient-weighted sum, min-max normalized,
// bilinear upsampling): resnet18 at layer4 and vgg11 at its last conv stage, both within 1e-4.
// The gradient that weights the map passes the ReLUs of vgg11's classifier: an image with a unit
// whose input is within float rounding of zero there takes either gradient, as the kernels' summation
// order falls (seen: 4.5e-7 in torch and cnn's AVX2 path, -1.0e-7 in its AVX-512 path, and that
// image's map 5e-5 apart), so such an image is left out, with a warning; one image at least is compared.
// Skipped when /usr/bin/python3 with torch and torchvision is absent.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "../skip.h"
#include "../temp_dir.h"
#include "config/model_spec.h"
#include "core/parallel.h"
#include "explain/cam.h"
#include "explain/heatmap.h"
#include "graph/net.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "train/checkpoint.h"

using namespace cnn;

namespace {

// Whether image n has a unit within float rounding of zero at the input of a ReLU among `gates`
// (the pre-activation nodes after the CAM layer).
bool gate_on_edge(const Net& net, const std::vector<std::string>& gates, int64_t n) {
  constexpr float kEdge = 1e-5f;
  for (const std::string& name : gates) {
    const Tensor& a = net.activation(net.node_index(name));
    const int64_t per = a.numel() / a.dim(0);
    for (int64_t i = n * per; i < (n + 1) * per; ++i)
      if (std::fabs(a[i]) < kEdge) return true;
  }
  return false;
}

void check_against_torch(const std::string& model, const std::string& layer_name, const std::string& input,
                         const std::vector<std::string>& gates = {}) {
  if (::access("/usr/bin/python3", X_OK) != 0 ||
      std::system("/usr/bin/python3 -c 'import torch, torchvision, numpy' >/dev/null 2>&1") != 0)
    skip_test("/usr/bin/python3 with torch, torchvision and numpy is not available");
  set_num_threads(2);
  test::TempDir dir("cnn_cam");
  const std::string cmd = "/usr/bin/python3 " + std::string(CNN_SOURCE_DIR) +
                          "/tests/explain/make_cam_reference.py --out " + dir.str() + " --models " + model +
                          " >/dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  const std::string d = dir.str() + "/" + model + "/";
  Net net(load_model_file(std::string(CNN_SOURCE_DIR) + "/configs/models/" + model + ".yaml", {input}));
  load_weights(d + "weights.safetensors", net);
  const SafetensorsFile ref = read_safetensors(d + "ref.safetensors");
  const Tensor& classes_f = ref.tensors.at("classes");
  const Tensor& raw = ref.tensors.at("raw");
  const Tensor& heat = ref.tensors.at("heat");
  const Tensor x = read_npy(d + "input.npy");

  const CamLayer layer = resolve_cam_layer(net, layer_name);
  CamExplainer ex(net, layer, CamMethod::gradcam);
  const Tensor logits = ex.forward(x);
  std::vector<bool> on_edge;
  for (int64_t n = 0; n < x.dim(0); ++n) on_edge.push_back(gate_on_edge(net, gates, n));
  std::vector<int64_t> classes;
  for (int64_t n = 0; n < classes_f.numel(); ++n) classes.push_back(int64_t(classes_f[n]));
  const Tensor m = ex.maps(classes);
  REQUIRE(m.shape() == raw.shape());
  const int64_t N = x.dim(0), H = x.dim(2), W = x.dim(3), hw = layer.height * layer.width;
  double raw_peak = 0, raw_diff = 0, heat_diff = 0;
  int64_t compared = 0;
  for (int64_t n = 0; n < N; ++n) {
    if (on_edge[size_t(n)]) {
      WARN("image " << n << " left out: a ReLU input of the classifier is within rounding of zero");
      continue;
    }
    ++compared;
    for (int64_t i = n * hw; i < (n + 1) * hw; ++i) {
      raw_peak = std::max(raw_peak, std::fabs(double(raw[i])));
      raw_diff = std::max(raw_diff, std::fabs(double(raw[i]) - double(m[i])));
    }
    const Tensor h = cam_heatmap(m.data() + n * hw, layer.height, layer.width, H, W);
    for (int64_t i = 0; i < H * W; ++i)
      heat_diff = std::max(heat_diff, std::fabs(double(h[i]) - double(heat[n * H * W + i])));
  }
  INFO(model << " layer " << layer.name << ": raw max diff " << raw_diff << " (peak " << raw_peak
             << "), heatmap max diff " << heat_diff);
  REQUIRE(compared > 0);
  REQUIRE(raw_peak > 0);
  CHECK(raw_diff <= 1e-4 * raw_peak);
  CHECK(heat_diff <= 1e-4);
}

}  // namespace

TEST_CASE("Grad-CAM equals pytorch-grad-cam's definition: resnet18 layer4") {
  check_against_torch("resnet18", "layer4", "input=[3,224,224]");
}

TEST_CASE("Grad-CAM equals pytorch-grad-cam's definition: vgg11 last conv stage") {
  check_against_torch("vgg11", "features.20", "input=[3,112,112]", {"classifier.0", "classifier.3"});
}
