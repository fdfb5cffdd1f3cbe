// LocalResponseNorm across channels (AlexNet), PyTorch's nn.LocalResponseNorm(size, alpha, beta, k)
// on N x C x ... inputs: see kernels/lrn.h. Work is split over images and pixel blocks.
#include <algorithm>
#include <cmath>
#include <vector>

#include "layers/layer_args.h"
#include "core/parallel.h"
#include "kernels/lrn.h"
#include "layers/layer.h"
#include "layers/options.h"

namespace cnn {
namespace {

class Lrn : public Layer {
 public:
  Lrn(LrnParams p, const LayerArgs& args) : p_(p), args_(args) {}

  Shape infer(const std::vector<Shape>& in) override {
    const Shape& s = in[0];
    if (s.size() < 3) args_.fail("lrn expects an N x C x H x W (or N x C x L) input, got " + shape_str(s));
    return s;
  }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, RunContext&) override {
    const Tensor& x = *in[0];
    pw_.resize(x.shape());
    for_blocks(x, [&](int64_t n, int64_t C, int64_t HW, int64_t p0, int64_t p1, std::vector<float>&) {
      const int64_t o = n * C * HW;
      lrn_forward(x.data() + o, C, HW, p0, p1, p_, out.data() + o, pw_.data() + o);
    });
  }

  void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                const std::vector<Tensor*>& din, RunContext&) override {
    if (!din[0]) return;
    const Tensor& x = *in[0];
    for_blocks(x, [&](int64_t n, int64_t C, int64_t HW, int64_t p0, int64_t p1, std::vector<float>& tmp) {
      const int64_t o = n * C * HW;
      tmp.resize(size_t(C * kLrnBlock));
      lrn_backward(x.data() + o, out.data() + o, pw_.data() + o, dout.data() + o, C, HW, p0, p1, p_,
                   din[0]->data() + o, tmp.data());
    });
  }

 private:
  // Calls f(image, C, HW, p0, p1, scratch) for every block of up to kLrnBlock pixels of every image.
  template <class F>
  void for_blocks(const Tensor& x, F&& f) {
    const int64_t N = x.dim(0), C = x.dim(1), HW = x.numel() / std::max<int64_t>(1, N * C);
    const int64_t blocks = (HW + kLrnBlock - 1) / kLrnBlock;
    auto run = [&](int64_t b, int64_t e, int) {
      std::vector<float> scratch;
      for (int64_t t = b; t < e; ++t) {
        const int64_t n = t / blocks, p0 = (t % blocks) * kLrnBlock;
        f(n, C, HW, p0, std::min(HW, p0 + kLrnBlock), scratch);
      }
    };
    if (x.numel() < (1 << 14)) run(0, N * blocks, 0);  // not worth waking the pool
    else parallel_for(N * blocks, run);
  }

  LrnParams p_;
  LayerArgs args_;
  Tensor pw_;  // s^-beta, saved for backward
};

}  // namespace

LrnParams parse_lrn(const LayerArgs& args) {
  LrnParams p;
  const int64_t size = args.get_int("size");
  const double alpha = args.get_float("alpha", 1e-4), beta = args.get_float("beta", 0.75), k = args.get_float("k", 1.0);
  args.finish();
  if (size < 1 || size > 1 << 20) args.fail("size", "expects a window size >= 1, got " + std::to_string(size));
  if (!(alpha >= 0)) args.fail("alpha", "expects a number >= 0");
  if (!(k > 0)) args.fail("k", "expects a number > 0 (k + alpha * mean(x^2) must stay positive)");
  if (!std::isfinite(beta)) args.fail("beta", "expects a finite number");
  p.size = int(size);
  p.alpha = float(alpha);
  p.beta = float(beta);
  p.k = float(k);
  return p;
}

std::unique_ptr<Layer> make_lrn(const LayerArgs& args) { return std::make_unique<Lrn>(parse_lrn(args), args); }

}  // namespace cnn
