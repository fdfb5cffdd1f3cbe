// Merge layers joining parallel branches: add (elementwise sum, shapes equal) and concat
// (along channels, dim 1; the other dims equal).
#include <cstring>

#include "core/parallel.h"
#include "layers/layer_args.h"
#include "kernels/activation.h"
#include "kernels/channel_stats.h"
#include "kernels/relu_mask.h"
#include "layers/layer.h"

namespace cnn {
namespace {

class Add : public Layer {
 public:
  explicit Add(const LayerArgs& args) : args_(args) {}
  Shape infer(const std::vector<Shape>& in) override {
    for (size_t i = 1; i < in.size(); ++i)
      if (in[i] != in[0])
        args_.fail("add needs branches of equal shape, got " + shape_str(in[0]) + " and " + shape_str(in[i]));
    inputs_ = in.size();
    const Shape& s = in[0];
    plane_ = s.size() >= 3 ? numel_of(s) / (s[0] * s[1]) : 0;
    planes_ = plane_ ? s[0] * s[1] : 0;
    return in[0];
  }
  size_t state_floats(bool train) const override {
    return train && masked() ? size_t(planes_ * relu_mask_words(plane_)) * 2 : 0;  // mask_ (uint64 words)
  }
  bool fuse_relu(bool on) override { return relu_ = on; }
  bool backward_reads_output() const override { return relu_; }
  bool backward_reads_inputs() const override { return false; }
  bool reads_input_through_map() const override { return inputs_ == 2; }
  FusionInfo fusion_info() const override {
    FusionInfo f;
    f.kind = FusionInfo::Kind::add;
    return f;
  }
  void forward(const std::vector<const Tensor*>& in, Tensor& out, RunContext& ctx) override {
    mask_words_ = 0;
    if (ctx.train && masked() && out.numel() == planes_ * plane_) {
      mask_words_ = relu_mask_words(plane_);
      mask_.resize(size_t(planes_ * mask_words_));  // grows only: no allocation per step
    }
    if (ctx.input_map) return forward_mapped(*in[size_t(ctx.input_map_at)], *in[size_t(1 - ctx.input_map_at)],
                                             ctx.input_map->map, out);
    if (mask_words_) {  // plane by plane, each plane's bits taken while it is in cache
      parallel_for_balanced(planes_, [&](int64_t b, int64_t e, int) {
        for (int64_t p = b; p < e; ++p) {
          sum_range(in, out.data(), p * plane_, (p + 1) * plane_);
          relu_mask_bits(out.data() + p * plane_, plane_, plane_bits(p));
        }
      });
      return;
    }
    parallel_elementwise(out.numel(), [&](int64_t b, int64_t e) { sum_range(in, out.data(), b, e); });
  }
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                const std::vector<Tensor*>& din, RunContext& ctx) override {
    const Tensor* mapped_grad = ctx.input_map ? din[size_t(ctx.input_map_at)] : nullptr;
    if (ctx.plane_sums_out && mapped_grad) {
      // Plane by plane, the packed BatchNorm's sums of its plane of the gradient while it is in
      // cache. Measured (session 24, Zen 5, ResNet-20 b128 training, 5 alternating runs of
      // `--layers`, with grad_sums' vectors): the add's and its BatchNorm's backward 1.07 -> 0.67
      // ms at 32x32, 0.56 -> 0.33 at 16x16, 0.31 -> 0.17 at 8x8.
      const Tensor& x = *in[size_t(ctx.input_map_at)];
      const int64_t N = x.dim(0), C = x.dim(1), HW = x.numel() / (N * C);
      BnPlaneSums& s = *ctx.plane_sums_out;
      s.sums.resize(size_t(2 * N * C));
      parallel_for_balanced(N * C, [&](int64_t b, int64_t e, int) {
        for (int64_t p = b; p < e; ++p) {
          write_grads(out, dout, din, p * HW, (p + 1) * HW, plane_bits(p));
          bn_plane_grad_sums(ctx.input_map->map, x.data(), mapped_grad->data(), C, HW, p, p + 1, s.sums.data());
        }
      });
      s.filled = true;
      return;
    }
    if (mask_words_) {
      parallel_for_balanced(planes_, [&](int64_t b, int64_t e, int) {
        for (int64_t p = b; p < e; ++p)
          write_grads(out, dout, din, p * plane_, (p + 1) * plane_, plane_bits(p));
      });
      return;
    }
    parallel_elementwise(dout.numel(), [&](int64_t b, int64_t e) { write_grads(out, dout, din, b, e, nullptr); });
  }

 private:
  // Training, with a BatchNorm packed into it (RunContext::input_map): x is that BatchNorm's input,
  // taken through its map plane by plane; the sum has the bits of the BatchNorm's output plus
  // `other` (a + b == b + a in IEEE arithmetic). Measured (session 22, Zen 5, `cnn bench --train
  // --layers`, 3-5 alternating runs, medians, forward ms): ResNet-20 b128 stage 1, BatchNorm 0.53
  // + add 0.72-0.76 -> add 0.67-0.73; ResNet-50 b32 stage 1, 9.4-10.3 + 9.7-10.3 -> 8.8-9.0.
  void forward_mapped(const Tensor& x, const Tensor& other, const BnPackMap& map, Tensor& out) {
    const int64_t N = out.dim(0), C = out.dim(1), HW = out.numel() / (N * C);
    parallel_for_balanced(N * C, [&](int64_t b, int64_t e, int) {
      for (int64_t p = b; p < e; ++p) {
        const BnChannel& k = map.channels[p % C];
        const float *xp = x.data() + p * HW, *op = other.data() + p * HW;
        float* yp = out.data() + p * HW;
        if (map.relu) mapped_plane<true>(xp, op, yp, HW, k);
        else mapped_plane<false>(xp, op, yp, HW, k);
        if (mask_words_) relu_mask_bits(yp, HW, plane_bits(p));
      }
    });
  }

  // out[b, e) = the sum of the inputs there (through the fused ReLU).
  void sum_range(const std::vector<const Tensor*>& in, float* y, int64_t b, int64_t e) const {
    const int64_t n = e - b;
    if (in.size() == 1) std::memcpy(y + b, in[0]->data() + b, sizeof(float) * n);
    for (size_t i = 1; i < in.size(); ++i) {
      const float* a = (i == 1 ? in[0]->data() : y) + b;
      const float* x = in[i]->data() + b;
      float* yb = y + b;
      if (relu_ && i + 1 == in.size())
        for (int64_t j = 0; j < n; ++j) {
          const float v = a[j] + x[j];
          yb[j] = v > 0.f ? v : 0.f;
        }
      else
        for (int64_t j = 0; j < n; ++j) yb[j] = a[j] + x[j];
    }
    if (relu_ && in.size() == 1) relu_forward(y + b, y + b, n);
  }
  template <bool BnRelu>
  void mapped_plane(const float* x, const float* other, float* y, int64_t n, const BnChannel& k) const {
    auto bn = [&](float v) { return BnRelu ? bn_relu(v, k.scale, k.shift) : bn_affine(v, k.scale, k.shift); };
    if (relu_)
      for (int64_t j = 0; j < n; ++j) {
        const float v = bn(x[j]) + other[j];
        y[j] = v > 0.f ? v : 0.f;
      }
    else
      for (int64_t j = 0; j < n; ++j) y[j] = bn(x[j]) + other[j];
  }

  // Values [b, e) of every input gradient: dout, through the fused ReLU's mask (the output's signs,
  // or `bits` when [b, e) is a plane whose bits the forward kept).
  void write_grads(const Tensor& out, const Tensor& dout, const std::vector<Tensor*>& din, int64_t b, int64_t e,
                   const uint64_t* bits) const {
    const size_t bytes = sizeof(float) * size_t(e - b);
    const float* first = nullptr;  // the first gradient written, copied to the others
    for (Tensor* d : din) {
      if (!d) continue;
      float* g = d->data() + b;
      if (g == first) continue;  // inputs sharing one gradient (Net: share_add_gradients)
      if (first) std::memcpy(g, first, bytes);
      else if (relu_ && bits) relu_backward_bits(bits, dout.data() + b, g, e - b);
      else if (relu_) relu_backward(out.data() + b, dout.data() + b, g, e - b);
      else std::memcpy(g, dout.data() + b, bytes);
      if (!first) first = g;
    }
  }

  // Training with the fused ReLU on planes of >= 64 values: the ReLU's mask as bits per plane
  // (relu_mask.h; whole words per plane, so threads taking planes share none), read by the backward
  // instead of the output. Measured (session 31, ResNet-20 b128 training, `--layers`, 3 alternating
  // runs): the backward without reading the output took 0.95-1.06 of the forward's time, 1.24-1.25
  // reading it. Smaller planes (ResNet-50's 7x7) read the output.
  bool masked() const { return relu_ && plane_ >= 64; }
  // Plane p's words in mask_ (null when the last forward kept none).
  uint64_t* plane_bits(int64_t p) { return mask_words_ ? mask_.data() + p * mask_words_ : nullptr; }

  LayerArgs args_;
  bool relu_ = false;  // fused with the ReLU that follows (Net planning)
  size_t inputs_ = 0;
  int64_t plane_ = 0, planes_ = 0;  // values per (image, channel) plane and planes, from infer()
  std::vector<uint64_t> mask_;
  int64_t mask_words_ = 0;  // per plane in mask_, set by the last forward; 0: no mask, read the output
};

class Concat : public Layer {
 public:
  explicit Concat(const LayerArgs& args) : args_(args) {}
  Shape infer(const std::vector<Shape>& in) override {
    Shape out = in[0];
    if (out.size() < 2) args_.fail("concat needs inputs with a channel dimension, got " + shape_str(out));
    for (size_t i = 1; i < in.size(); ++i) {
      Shape a = in[i], b = in[0];
      if (a.size() != b.size()) args_.fail("concat needs inputs of equal rank, got " + shape_str(b) + " and " + shape_str(a));
      a[1] = b[1] = 0;
      if (a != b)
        args_.fail("concat needs inputs equal in all but the channel dimension, got " + shape_str(in[0]) + " and " +
                   shape_str(in[i]));
      out[1] += in[i][1];
    }
    return out;
  }
  void forward(const std::vector<const Tensor*>& in, Tensor& out, RunContext&) override {
    const int64_t N = out.dim(0), out_img = out.numel() / N;
    int64_t offset = 0;
    for (const Tensor* x : in) {
      const int64_t img = x->numel() / N;
      for (int64_t n = 0; n < N; ++n)
        std::memcpy(out.data() + n * out_img + offset, x->data() + n * img, sizeof(float) * img);
      offset += img;
    }
  }
  void backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout, const std::vector<Tensor*>& din,
                RunContext&) override {
    const int64_t N = dout.dim(0), out_img = dout.numel() / N;
    int64_t offset = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      const int64_t img = in[i]->numel() / N;
      if (din[i])
        for (int64_t n = 0; n < N; ++n)
          std::memcpy(din[i]->data() + n * img, dout.data() + n * out_img + offset, sizeof(float) * img);
      offset += img;
    }
  }

 private:
  LayerArgs args_;
};

}  // namespace

std::unique_ptr<Layer> make_add(const LayerArgs& args) {
  args.finish();
  return std::make_unique<Add>(args);
}
std::unique_ptr<Layer> make_concat(const LayerArgs& args) {
  args.finish();
  return std::make_unique<Concat>(args);
}

}  // namespace cnn
