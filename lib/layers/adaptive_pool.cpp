// AdaptiveAvgPool2d (`adaptive_avgpool`, out: 7 or [6, 6]) and its 1 x 1 case, global average
// pooling (`global_avgpool`), PyTorch semantics (kernels/adaptive_pool.h); parallel over N*C planes.
#include "layers/layer_args.h"
#include "core/parallel.h"
#include "kernels/adaptive_pool.h"
#include "layers/layer.h"
#include "layers/options.h"

namespace cnn {
namespace {

class AdaptiveAvgPool : public Layer {
 public:
  AdaptiveAvgPool(int64_t oh, int64_t ow, const LayerArgs& args) : OH_(int(oh)), OW_(int(ow)), args_(args) {}

  Shape infer(const std::vector<Shape>& in) override {
    const Shape& s = in[0];
    if (s.size() != 4) args_.fail(args_.type() + " expects an N x C x H x W input, got " + shape_str(s));
    if (s[2] < 1 || s[3] < 1) args_.fail(args_.type() + " got an empty input " + shape_str(s));
    H_ = int(s[2]), W_ = int(s[3]);
    return {s[0], s[1], OH_, OW_};
  }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, RunContext&) override {
    const Tensor& x = *in[0];
    for_planes(x, [&](int64_t p, int64_t ip, int64_t op) {
      adaptive_avgpool2d_forward(x.data() + p * ip, H_, W_, OH_, OW_, out.data() + p * op);
    });
  }

  void backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, RunContext&) override {
    if (!din[0]) return;
    for_planes(*in[0], [&](int64_t p, int64_t ip, int64_t op) {
      adaptive_avgpool2d_backward(dout.data() + p * op, H_, W_, OH_, OW_, din[0]->data() + p * ip);
    });
  }

 private:
  template <class F>
  void for_planes(const Tensor& x, F&& f) {
    const int64_t planes = x.dim(0) * x.dim(1), ip = int64_t(H_) * W_, op = int64_t(OH_) * OW_;
    auto run = [&](int64_t b, int64_t e, int) {
      for (int64_t p = b; p < e; ++p) f(p, ip, op);
    };
    if (x.numel() + planes * op < (1 << 14)) run(0, planes, 0);  // not worth waking the pool
    else parallel_for(planes, run);
  }

  int OH_, OW_;
  LayerArgs args_;
  int H_ = 0, W_ = 0;
};

}  // namespace

std::vector<int64_t> parse_adaptive_avgpool(const LayerArgs& args) {
  auto out = args.get_ints("out", 2, {});
  if (out.empty()) args.fail("missing required argument 'out' for layer type '" + args.type() + "'");
  args.finish();
  for (auto v : out)
    if (v < 1 || v > 1 << 20) args.fail("out", "expects output sizes >= 1, got " + std::to_string(v));
  return out;
}

std::unique_ptr<Layer> make_adaptive_avgpool(const LayerArgs& args) {
  const auto out = parse_adaptive_avgpool(args);
  return std::make_unique<AdaptiveAvgPool>(out[0], out[1], args);
}

std::unique_ptr<Layer> make_global_avgpool(const LayerArgs& args) {
  args.finish();
  return std::make_unique<AdaptiveAvgPool>(1, 1, args);
}

}  // namespace cnn
