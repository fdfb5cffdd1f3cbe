// Dropout (inverted): at training time zeroes each element with probability p and scales the
// rest by 1/(1-p); at eval time the identity. The mask comes from the run's Rng, so a seeded run
// drops the same units every time.
#include <cstring>

#include "layers/layer_args.h"
#include "core/rng.h"
#include "layers/layer.h"

namespace cnn {
namespace {

class Dropout : public Layer {
 public:
  explicit Dropout(float p) : p_(p) {}
  Shape infer(const std::vector<Shape>& in) override {
    planned_ = numel_of(in[0]);
    return in[0];
  }
  size_t state_floats(bool train) const override { return train && p_ > 0.f ? size_t(planned_) : 0; }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, RunContext& ctx) override {
    const Tensor& x = *in[0];
    active_ = ctx.train && p_ > 0.f;
    if (!active_) {
      std::memcpy(out.data(), x.data(), sizeof(float) * x.numel());
      return;
    }
    mask_.resize(x.shape());
    const float scale = p_ >= 1.f ? 0.f : 1.f / (1.f - p_);
    for (int64_t i = 0; i < x.numel(); ++i) {
      const float m = ctx.rng->uniform() < p_ ? 0.f : scale;
      mask_[i] = m;
      out[i] = x[i] * m;
    }
  }

  void backward(const std::vector<const Tensor*>&, const Tensor&, const Tensor& dout, const std::vector<Tensor*>& din,
                RunContext&) override {
    if (!din[0]) return;
    if (!active_) {
      std::memcpy(din[0]->data(), dout.data(), sizeof(float) * dout.numel());
      return;
    }
    for (int64_t i = 0; i < dout.numel(); ++i) (*din[0])[i] = dout[i] * mask_[i];
  }

 private:
  float p_;
  bool active_ = false;
  Tensor mask_;
  int64_t planned_ = 0;  // input elements at the planned batch
};

}  // namespace

std::unique_ptr<Layer> make_dropout(const LayerArgs& args) {
  double p = args.get_float("p", 0.5);
  args.finish();
  if (p < 0 || p > 1) args.fail("p", "expects a probability in [0, 1], got " + std::to_string(p));
  return std::make_unique<Dropout>(static_cast<float>(p));
}

}  // namespace cnn
