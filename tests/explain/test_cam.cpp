// CAM and Grad-CAM (lib/explain/cam.*) and the heatmap pictures (lib/explain/heatmap.*): a tiny
// net whose Grad-CAM is computed by hand, CAM = Grad-CAM x (H x W) on a global-average-pooling
// net (resnet18), layer resolution and its errors, bilinear upsampling and the JET colormap.
// The comparison with pytorch-grad-cam's definition is test_cam_torch.cpp.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "config/model_spec.h"
#include "core/error.h"
#include "core/rng.h"
#include "explain/cam.h"
#include "explain/heatmap.h"
#include "graph/net.h"

using namespace cnn;

namespace {

void set_param(Net& net, const std::string& name, const std::vector<float>& values) {
  for (const NamedParam& p : net.params())
    if (p.name == name) {
      REQUIRE(p.param->value.numel() == int64_t(values.size()));
      std::copy(values.begin(), values.end(), p.param->value.data());
      return;
    }
  FAIL("no parameter " << name);
}

// 1 x 2 x 2 input -> conv 1x1 (2 channels) -> flatten -> linear (2 classes).
const char* kTinyNet = R"(
name: tiny
input: [1, 2, 2]
layers:
  - {conv: {out: 2, k: 1}, name: conv1}
  - {flatten: {}, name: flat}
  - {linear: {out: 2}, name: fc}
)";

}  // namespace

TEST_CASE("Grad-CAM of a tiny net equals the hand-computed map") {
  Net net(load_model_string(kTinyNet, "tiny.yaml"));
  set_param(net, "conv1.weight", {1.f, -1.f});
  set_param(net, "conv1.bias", {0.f, 0.5f});
  // Class 0 reads A0 at (0,0) with weight 1 and A1 at (1,1) with weight -2; class 1 is unused.
  set_param(net, "fc.weight", {1, 0, 0, 0, 0, 0, 0, -2, /*class 1*/ 0, 1, 0, 0, 0, 0, 0, 0});
  set_param(net, "fc.bias", {0.f, 0.f});
  CHECK(net.node_index("conv1") == 0);
  CHECK(net.node_index("fc") == 2);
  CHECK(net.node_index("nope") == -1);
  const CamLayer layer = resolve_cam_layer(net, "");
  CHECK(layer.name == "conv1");
  CHECK(default_cam_method(net, layer) == CamMethod::gradcam);  // flatten + linear: no pooling
  CHECK_THROWS_AS(CamExplainer(net, layer, CamMethod::cam), ConfigError);
  CamExplainer ex(net, layer, CamMethod::gradcam);
  Tensor x(Shape{1, 1, 2, 2});
  for (int i = 0; i < 4; ++i) x[i] = float(i + 1);  // [[1, 2], [3, 4]]
  ex.forward(x);
  const Tensor m = ex.maps({0});
  // A0 = x = [1, 2, 3, 4], A1 = 0.5 - x = [-0.5, -1.5, -2.5, -3.5];
  // alpha0 = mean(1, 0, 0, 0) = 0.25, alpha1 = mean(0, 0, 0, -2) = -0.5;
  // map = 0.25 A0 - 0.5 A1 = [0.5, 1.25, 2, 2.75].
  const float want[4] = {0.5f, 1.25f, 2.f, 2.75f};
  REQUIRE(m.shape() == Shape{1, 2, 2});
  for (int i = 0; i < 4; ++i) CHECK(m[i] == Approx(want[i]).margin(1e-6));
  // The heatmap: ReLU, then (v - 0.5) / 2.25 at the input's 2 x 2 size.
  const Tensor h = cam_heatmap(m.data(), 2, 2, 2, 2);
  const float heat[4] = {0.f, 1.f / 3, 2.f / 3, 1.f};
  for (int i = 0; i < 4; ++i) CHECK(h[i] == Approx(heat[i]).margin(1e-6));
}

TEST_CASE("CAM equals Grad-CAM times H x W on resnet18 (global average pooling + linear)") {
  Net net(load_model_file(std::string(CNN_SOURCE_DIR) + "/configs/models/resnet18.yaml", {"input=[3,64,64]"}));
  net.init(3);
  const CamLayer layer = resolve_cam_layer(net, "");
  CHECK(layer.name == "layer4.1.then.0");
  CHECK(resolve_cam_layer(net, "layer4").node == layer.node);
  REQUIRE(default_cam_method(net, layer) == CamMethod::cam);
  Tensor x(Shape{2, 3, 64, 64});
  Rng rng(5);
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = rng.normal();
  CamExplainer cam(net, layer, CamMethod::cam), grad(net, layer, CamMethod::gradcam);
  cam.forward(x);
  const std::vector<int64_t> classes{7, 421};
  const Tensor a = cam.maps(classes);
  grad.forward(x);
  const Tensor b = grad.maps(classes);
  REQUIRE(a.shape() == Shape{2, 2, 2});
  const double hw = double(layer.height * layer.width);
  double peak = 0;
  for (int64_t i = 0; i < a.numel(); ++i) peak = std::max(peak, std::fabs(double(a[i])));
  REQUIRE(peak > 0);
  for (int64_t i = 0; i < a.numel(); ++i) CHECK(std::fabs(double(b[i]) * hw - double(a[i])) <= 1e-5 * peak);
}

TEST_CASE("cam layers: default, block names and errors") {
  Net vgg(load_model_file(std::string(CNN_SOURCE_DIR) + "/configs/models/lenet5.yaml"));
  CHECK(resolve_cam_layer(vgg, "").name == "5");  // the pool before flatten
  CHECK(resolve_cam_layer(vgg, "conv2").height == 10);
  CHECK_THROWS_WITH(resolve_cam_layer(vgg, "conv"), Catch::Contains("no layer 'conv'") && Catch::Contains("conv1"));
  CHECK_THROWS_WITH(resolve_cam_layer(vgg, "fc1"), Catch::Contains("not a C x H x W feature map"));
}

TEST_CASE("resize_bilinear samples at half-pixel centres as cv2.resize") {
  const float in[2] = {0.f, 1.f};  // 1 x 2 -> 1 x 4: x = (i + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25
  float out[4];
  resize_bilinear(in, 1, 2, out, 1, 4);
  CHECK(out[0] == 0.f);  // clamped at the edge
  CHECK(out[1] == Approx(0.25f));
  CHECK(out[2] == Approx(0.75f));
  CHECK(out[3] == 1.f);
}

TEST_CASE("jet colormap: blue at 0, green at 0.5, red at 1") {
  uint8_t c[3];
  jet_rgb(0.f, c);
  CHECK((c[0] == 0 && c[1] == 0 && c[2] == 128));
  jet_rgb(0.5f, c);
  CHECK((c[0] == 128 && c[1] == 255 && c[2] == 128));
  jet_rgb(1.f, c);
  CHECK((c[0] == 128 && c[1] == 0 && c[2] == 0));
}
