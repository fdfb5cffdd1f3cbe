// Dropout2d (PyTorch's nn.Dropout2d): at training time zeroes whole channels, each (n, c) plane
// of an N x C x H x W input with probability p, and scales the kept planes by 1/(1-p); at eval
// time the identity. One draw of the run's Rng per plane, in (n, c) order.
#include <algorithm>
#include <cstring>

#include "config/layer_args.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "layers/layer.h"

namespace cnn {
namespace {

class Dropout2d : public Layer {
 public:
  Dropout2d(float p, const LayerArgs& args) : p_(p), args_(args) {}

  Shape infer(const std::vector<Shape>& in) override {
    const Shape& s = in[0];
    if (s.size() != 4) args_.fail("dropout2d expects an N x C x H x W input, got " + shape_str(s));
    return s;
  }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, RunContext& ctx) override {
    const Tensor& x = *in[0];
    active_ = ctx.train && p_ > 0.f;
    if (!active_) {
      std::memcpy(out.data(), x.data(), sizeof(float) * x.numel());
      return;
    }
    const int64_t planes = x.dim(0) * x.dim(1);
    mask_.resize({planes});
    const float scale = p_ >= 1.f ? 0.f : 1.f / (1.f - p_);
    for (int64_t i = 0; i < planes; ++i) mask_[i] = ctx.rng->uniform() < p_ ? 0.f : scale;
    apply(x.data(), out.data(), planes, x.numel() / std::max<int64_t>(1, planes));
  }

  void backward(const std::vector<const Tensor*>&, const Tensor&, const Tensor& dout, const std::vector<Tensor*>& din,
                RunContext&) override {
    if (!din[0]) return;
    if (!active_) {
      std::memcpy(din[0]->data(), dout.data(), sizeof(float) * dout.numel());
      return;
    }
    const int64_t planes = mask_.numel();
    apply(dout.data(), din[0]->data(), planes, dout.numel() / std::max<int64_t>(1, planes));
  }

 private:
  // dst plane i = src plane i * mask_i.
  void apply(const float* src, float* dst, int64_t planes, int64_t HW) {
    auto run = [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) {
        const float m = mask_[i];
        const float* __restrict s = src + i * HW;
        float* __restrict d = dst + i * HW;
        for (int64_t j = 0; j < HW; ++j) d[j] = s[j] * m;  // multiply, as torch: NaN * 0 stays NaN
      }
    };
    if (planes * HW < (1 << 15)) run(0, planes, 0);
    else parallel_for(planes, run);
  }

  float p_;
  LayerArgs args_;
  bool active_ = false;
  Tensor mask_;  // per (n, c) plane: 0 or 1/(1-p)
};

}  // namespace

std::unique_ptr<Layer> make_dropout2d(const LayerArgs& args) {
  double p = args.get_float("p", 0.5);
  args.finish();
  if (p < 0 || p > 1) args.fail("p", "expects a probability in [0, 1], got " + std::to_string(p));
  return std::make_unique<Dropout2d>(static_cast<float>(p), args);
}

}  // namespace cnn
