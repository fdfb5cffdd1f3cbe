// Layers that move data without arithmetic: flatten (N x C x H x W -> N x CHW) and identity.
#include <cstring>

#include "core/parallel.h"
#include "layers/layer_args.h"
#include "layers/layer.h"

namespace cnn {
namespace {

class Copy : public Layer {
 public:
  explicit Copy(bool flatten) : flatten_(flatten) {}
  Shape infer(const std::vector<Shape>& in) override {
    if (!flatten_) return in[0];
    return {in[0][0], numel_of(in[0]) / in[0][0]};
  }
  FusionInfo fusion_info() const override {
    FusionInfo f;
    if (!flatten_) f.kind = FusionInfo::Kind::identity;
    return f;
  }
  bool passes_input_through() const override { return !flatten_; }
  void forward(const std::vector<const Tensor*>& in, Tensor& out, RunContext&) override {
    parallel_copy(in[0]->data(), out.data(), out.numel());
  }
  void backward(const std::vector<const Tensor*>&, const Tensor&, const Tensor& dout, const std::vector<Tensor*>& din,
                RunContext&) override {
    if (din[0]) parallel_copy(dout.data(), din[0]->data(), dout.numel());
  }

 private:
  bool flatten_;
};

}  // namespace

std::unique_ptr<Layer> make_flatten(const LayerArgs& args) {
  args.finish();
  return std::make_unique<Copy>(true);
}
std::unique_ptr<Layer> make_identity(const LayerArgs& args) {
  args.finish();
  return std::make_unique<Copy>(false);
}

}  // namespace cnn
