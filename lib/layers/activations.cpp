// Pointwise activations: relu, leaky_relu, tanh, sigmoid, and scale (times a constant, as the
// 0.125 on ResNet-9's logits in Page's DAWNBench network).
#include <limits>

#include "layers/layer_args.h"
#include "core/parallel.h"
#include "kernels/activation.h"
#include "layers/layer.h"
#include "layers/options.h"

namespace cnn {
namespace {

enum class Act { relu, leaky_relu, tanh, sigmoid, scale };

class Activation : public Layer {
 public:
  Activation(Act a, float slope) : act_(a), slope_(slope) {}
  Shape infer(const std::vector<Shape>& in) override { return in[0]; }
  FusionInfo fusion_info() const override {
    if (act_ != Act::relu) return {};
    return {FusionInfo::Kind::clamp, {}, 0.f, std::numeric_limits<float>::infinity()};
  }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, RunContext&) override {
    const float* x = in[0]->data();
    float* y = out.data();
    parallel_elementwise(out.numel(), [&](int64_t b, int64_t e) {
      switch (act_) {
        case Act::relu: relu_forward(x + b, y + b, e - b); break;
        case Act::leaky_relu: leaky_relu_forward(x + b, y + b, e - b, slope_); break;
        case Act::tanh: tanh_forward(x + b, y + b, e - b); break;
        case Act::sigmoid: sigmoid_forward(x + b, y + b, e - b); break;
        case Act::scale:
          for (int64_t i = b; i < e; ++i) y[i] = slope_ * x[i];
          break;
      }
    });
  }

  void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                const std::vector<Tensor*>& din, RunContext&) override {
    if (!din[0]) return;
    const float* x = in[0]->data();
    const float* y = out.data();
    const float* dy = dout.data();
    float* dx = din[0]->data();
    parallel_elementwise(out.numel(), [&](int64_t b, int64_t e) {
      switch (act_) {
        case Act::relu: relu_backward(y + b, dy + b, dx + b, e - b); break;
        case Act::leaky_relu: leaky_relu_backward(x + b, dy + b, dx + b, e - b, slope_); break;
        case Act::tanh: tanh_backward(y + b, dy + b, dx + b, e - b); break;
        case Act::sigmoid: sigmoid_backward(y + b, dy + b, dx + b, e - b); break;
        case Act::scale:
          for (int64_t i = b; i < e; ++i) dx[i] = slope_ * dy[i];
          break;
      }
    });
  }

 private:
  Act act_;
  float slope_;  // leaky_relu: the negative slope; scale: the factor
};

std::unique_ptr<Layer> make(Act a, const LayerArgs& args) {
  float slope = 0.f;
  if (a == Act::leaky_relu) slope = static_cast<float>(parse_leaky_relu_slope(args));
  else if (a == Act::scale) slope = static_cast<float>(parse_scale_factor(args));
  else args.finish();
  return std::make_unique<Activation>(a, slope);
}

}  // namespace

double parse_leaky_relu_slope(const LayerArgs& args) {
  const double slope = args.get_float("slope", 0.01);
  args.finish();
  return slope;
}

double parse_scale_factor(const LayerArgs& args) {
  const double factor = args.get_float("factor");
  args.finish();
  return factor;
}

std::unique_ptr<Layer> make_relu(const LayerArgs& args) { return make(Act::relu, args); }
std::unique_ptr<Layer> make_leaky_relu(const LayerArgs& args) { return make(Act::leaky_relu, args); }
std::unique_ptr<Layer> make_tanh(const LayerArgs& args) { return make(Act::tanh, args); }
std::unique_ptr<Layer> make_sigmoid(const LayerArgs& args) { return make(Act::sigmoid, args); }
std::unique_ptr<Layer> make_scale(const LayerArgs& args) { return make(Act::scale, args); }

}  // namespace cnn
