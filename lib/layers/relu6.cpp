// ReLU6 (MobileNetV2): y = min(max(x, 0), 6). As PyTorch's hardtanh(0, 6), the gradient passes
// only where 0 < x < 6 (it is zero at both kinks).
#include "layers/layer_args.h"
#include "core/parallel.h"
#include "layers/layer.h"

namespace cnn {
namespace {

class ReLU6 : public Layer {
 public:
  Shape infer(const std::vector<Shape>& in) override { return in[0]; }
  FusionInfo fusion_info() const override { return {FusionInfo::Kind::clamp, {}, 0.f, 6.f}; }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, RunContext&) override {
    const float* x = in[0]->data();
    float* y = out.data();
    parallel_elementwise(out.numel(), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) y[i] = x[i] < 0.f ? 0.f : (x[i] > 6.f ? 6.f : x[i]);
    });
  }

  void backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, RunContext&) override {
    if (!din[0]) return;
    const float* x = in[0]->data();
    const float* dy = dout.data();
    float* dx = din[0]->data();
    parallel_elementwise(dout.numel(), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const float d = dy[i];  // unconditional load: the select vectorizes
        dx[i] = (x[i] > 0.f && x[i] < 6.f) ? d : 0.f;
      }
    });
  }
};

}  // namespace

std::unique_ptr<Layer> make_relu6(const LayerArgs& args) {
  args.finish();
  return std::make_unique<ReLU6>();
}

}  // namespace cnn
