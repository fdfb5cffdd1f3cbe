// Linear: y = x W^T + b on an N x F input (PyTorch layout: W is out x in).
#include "layers/layer_args.h"
#include "core/parallel.h"
#include "kernels/gemm.h"
#include "layers/init.h"
#include "layers/layer.h"
#include "layers/options.h"

namespace cnn {
namespace {

class Linear : public Layer {
 public:
  Linear(int64_t out, bool bias, const LayerArgs& args) : out_(out), has_bias_(bias), args_(args) {}

  Shape infer(const std::vector<Shape>& in) override {
    const Shape& s = in[0];
    if (s.size() != 2) args_.fail("linear expects an N x features input, got " + shape_str(s) + " (add flatten before it)");
    if (!weight_.value.empty() && s[1] != in_)
      args_.fail("input features changed from " + std::to_string(in_) + " to " + std::to_string(s[1]));
    in_ = s[1];
    if (weight_.value.empty()) {
      weight_ = {"weight", Tensor({out_, in_}), Tensor({out_, in_}), true, "linear", in_, out_};
      if (has_bias_) bias_ = {"bias", Tensor({out_}), Tensor({out_}), true, "bias", in_, out_};
    }
    return {s[0], out_};
  }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, RunContext&) override {
    const Tensor& x = *in[0];
    const int N = int(x.dim(0));
    sgemm_parallel(false, true, N, int(out_), int(in_), 1.f, x.data(), int(in_), weight_.value.data(), int(in_), 0.f,
                   out.data(), int(out_));
    if (has_bias_) {
      const float* b = bias_.value.data();
      for (int n = 0; n < N; ++n) {
        float* y = out.data() + int64_t(n) * out_;
        for (int64_t j = 0; j < out_; ++j) y[j] += b[j];
      }
    }
  }

  void backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, RunContext& ctx) override {
    const Tensor& x = *in[0];
    const int N = int(x.dim(0));
    if (ctx.param_grads)
      sgemm_parallel(true, false, int(out_), int(in_), N, 1.f, dout.data(), int(out_), x.data(), int(in_), 1.f,
                   weight_.grad.data(), int(in_));
    if (din[0])
      sgemm_parallel(false, false, N, int(in_), int(out_), 1.f, dout.data(), int(out_), weight_.value.data(), int(in_),
                     0.f, din[0]->data(), int(in_));
    if (has_bias_ && ctx.param_grads) {
      float* db = bias_.grad.data();
      for (int n = 0; n < N; ++n) {
        const float* d = dout.data() + int64_t(n) * out_;
        for (int64_t j = 0; j < out_; ++j) db[j] += d[j];
      }
    }
  }

  std::vector<Param*> params() override {
    std::vector<Param*> p{&weight_};
    if (has_bias_) p.push_back(&bias_);
    return p;
  }
  int64_t macs(const std::vector<Shape>&, const Shape&) const override { return in_ * out_; }
  void init(Rng& rng) override {
    init_pytorch_default(weight_, rng);
    if (has_bias_) init_pytorch_default(bias_, rng);
  }

 private:
  int64_t out_, in_ = 0;
  bool has_bias_;
  LayerArgs args_;
  Param weight_, bias_;
};

}  // namespace

LinearOptions parse_linear(const LayerArgs& args) {
  LinearOptions o;
  o.out = args.get_int("out");
  o.bias = args.get_bool("bias", true);
  args.finish();
  if (o.out < 1) args.fail("out", "expects an integer >= 1");
  return o;
}

std::unique_ptr<Layer> make_linear(const LayerArgs& args) {
  const LinearOptions o = parse_linear(args);
  return std::make_unique<Linear>(o.out, o.bias, args);
}

}  // namespace cnn
