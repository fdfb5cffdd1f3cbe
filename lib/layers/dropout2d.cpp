// Dropout2d (PyTorch's nn.Dropout2d): at training time zeroes whole channels, each (n, c) plane
// of an N x C x H x W input with probability p, and scales the kept planes by 1/(1-p); at eval
// time the identity. One draw of the run's Rng per plane, in (n, c) order.
// Drop path (stochastic depth; torchvision's StochasticDepth(p, "row"), timm's DropPath) is the same
// with whole samples as the units: each sample of any N x ... input is zeroed with probability p
// and the rest scaled by 1/(1-p), one draw per sample in order. Put it at the end of a residual
// branch, before the add.
#include <algorithm>
#include <cstring>

#include "layers/layer_args.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "layers/layer.h"

namespace cnn {
namespace {

class Dropout2d : public Layer {
 public:
  enum class Unit { plane, sample };
  // The kept units are scaled by 1/(1-p) with 1-p rounded once from double, as torch's div_(1 - p).
  Dropout2d(double p, Unit unit, const LayerArgs& args)
      : p_(float(p)), scale_(p >= 1 ? 0.f : 1.f / float(1.0 - p)), unit_(unit), args_(args) {}

  Shape infer(const std::vector<Shape>& in) override {
    const Shape& s = in[0];
    if (unit_ == Unit::plane && s.size() != 4) args_.fail("dropout2d expects an N x C x H x W input, got " + shape_str(s));
    if (s.empty()) args_.fail("drop_path expects an N x ... input, got a scalar");
    return s;
  }
  // Inference fusion only looks at eval forwards, where this layer is the identity.
  FusionInfo fusion_info() const override { return {FusionInfo::Kind::identity, {}, 0.f, 0.f}; }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, RunContext& ctx) override {
    const Tensor& x = *in[0];
    active_ = ctx.train && p_ > 0.f;
    if (!active_) {
      std::memcpy(out.data(), x.data(), sizeof(float) * x.numel());
      return;
    }
    const int64_t planes = unit_ == Unit::sample ? x.dim(0) : x.dim(0) * x.dim(1);
    mask_.resize({planes});
    for (int64_t i = 0; i < planes; ++i) mask_[i] = ctx.rng->uniform() < p_ ? 0.f : scale_;
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

  float p_, scale_;
  Unit unit_;
  LayerArgs args_;
  bool active_ = false;
  Tensor mask_;  // per (n, c) plane or per sample: 0 or 1/(1-p)
};

double probability(const LayerArgs& args, double def) {
  double p = args.get_float("p", def);
  args.finish();
  if (p < 0 || p > 1) args.fail("p", "expects a probability in [0, 1], got " + std::to_string(p));
  return p;
}

}  // namespace

std::unique_ptr<Layer> make_dropout2d(const LayerArgs& args) {
  return std::make_unique<Dropout2d>(probability(args, 0.5), Dropout2d::Unit::plane, args);
}

std::unique_ptr<Layer> make_drop_path(const LayerArgs& args) {
  return std::make_unique<Dropout2d>(probability(args, 0.0), Dropout2d::Unit::sample, args);
}

}  // namespace cnn
