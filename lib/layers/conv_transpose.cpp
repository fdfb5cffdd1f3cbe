// ConvTranspose2d (PyTorch semantics): the adjoint of a convolution. Weights are
// in x out/groups x kH x kW. Per image and group:
//   forward:       col = W^T x (GEMM), then col2im into y  (a convolution's backward-data)
//   backward data: dx = W im2col(dy)                        (a convolution's forward)
//   weight grad:   dW += x im2col(dy)^T
// The geometry g_ is that of the convolution going the other way: from an out/groups x Hout x
// Wout "input" to the H x W "output". Small images share one GEMM side by side as in Conv2d;
// parallel over images, with per-thread column workspaces and weight-gradient partials.
#include <algorithm>
#include <cstring>

#include "layers/layer_args.h"
#include "core/parallel.h"
#include "core/workspace.h"
#include "kernels/gemm.h"
#include "kernels/im2col.h"
#include "layers/conv_common.h"
#include "layers/init.h"
#include "layers/layer.h"
#include "layers/options.h"

namespace cnn {
namespace {

class ConvTranspose2d : public Layer {
 public:
  ConvTranspose2d(ConvTransposeOptions o, const LayerArgs& args) : o_(std::move(o)), args_(args) {}

  Shape infer(const std::vector<Shape>& in) override {
    const Shape& s = in[0];
    if (s.size() != 4) args_.fail("conv_transpose expects an N x C x H x W input, got " + shape_str(s));
    const int64_t C = s[1];
    if (C % o_.groups || o_.out % o_.groups)
      args_.fail("groups=" + std::to_string(o_.groups) + " must divide input channels (" + std::to_string(C) +
                 ") and out (" + std::to_string(o_.out) + ")");
    if (!weight_.value.empty() && C != in_channels_)
      args_.fail("input channels changed from " + std::to_string(in_channels_) + " to " + std::to_string(C));
    in_channels_ = C;
    int64_t out_hw[2];
    for (int d = 0; d < 2; ++d)
      out_hw[d] = (s[2 + d] - 1) * o_.stride[d] - 2 * o_.pad[d] + o_.dilation[d] * (o_.k[d] - 1) + o_.output_pad[d] + 1;
    if (out_hw[0] <= 0 || out_hw[1] <= 0)
      args_.fail("input " + shape_str({s[1], s[2], s[3]}) + " gives an empty output (" + std::to_string(out_hw[0]) +
                 "x" + std::to_string(out_hw[1]) + ") with this kernel/stride/padding");
    g_ = ConvGeom{};
    g_.C = static_cast<int>(o_.out / o_.groups);
    g_.H = static_cast<int>(out_hw[0]);
    g_.W = static_cast<int>(out_hw[1]);
    g_.KH = int(o_.k[0]), g_.KW = int(o_.k[1]);
    g_.SH = int(o_.stride[0]), g_.SW = int(o_.stride[1]);
    g_.PH = int(o_.pad[0]), g_.PW = int(o_.pad[1]);
    g_.DH = int(o_.dilation[0]), g_.DW = int(o_.dilation[1]);
    g_.finish();
    // The convolution's output is this layer's input (finish() may count more positions when
    // output_pad >= stride, which only padding would read).
    g_.OH = static_cast<int>(s[2]);
    g_.OW = static_cast<int>(s[3]);
    if (weight_.value.empty()) {
      const int64_t KK = int64_t(g_.KH) * g_.KW;
      weight_.name = "weight";
      weight_.value = Tensor({C, o_.out / o_.groups, g_.KH, g_.KW});
      weight_.grad = Tensor(weight_.value.shape());
      weight_.init_kind = "conv";
      weight_.fan_in = o_.out / o_.groups * KK;  // as PyTorch: weight.size(1) * kH * kW
      weight_.fan_out = C * KK;
      if (o_.bias) {
        bias_.name = "bias";
        bias_.value = Tensor({o_.out});
        bias_.grad = Tensor({o_.out});
        bias_.init_kind = "bias";
        bias_.fan_in = weight_.fan_in;
      }
    }
    return {s[0], o_.out, out_hw[0], out_hw[1]};
  }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, RunContext&) override {
    const Tensor& x = *in[0];
    const int64_t N = x.dim(0);
    if (N < num_threads()) {  // too few images to split: split each GEMM instead
      for (int64_t n = 0; n < N; ++n) forward_images(x, out, n, 1, 0, true);
      return;
    }
    parallel_for(N, [&](int64_t b, int64_t e, int tid) {
      for (int64_t n = b, nb; n < e; n += nb) forward_images(x, out, n, nb = batch_for(e - n), tid, false);
    });
  }

  void backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, RunContext& ctx) override {
    const Tensor& x = *in[0];
    if (!ctx.param_grads && !din[0]) return;
    Tensor* dw = ctx.param_grads ? &weight_.grad : nullptr;
    accumulate_weight_grad_over_images(x.dim(0), dw, [&](int64_t b, int64_t e, int tid, float* dw) {
      for (int64_t n = b, nb; n < e; n += nb) backward_images(x, dout, din[0], dw, n, nb = batch_for(e - n), tid);
    });
    if (o_.bias && ctx.param_grads) accumulate_channel_bias_grad(dout, o_.out, int64_t(g_.H) * g_.W, bias_.grad.data());
  }

  std::vector<Param*> params() override {
    std::vector<Param*> p{&weight_};
    if (o_.bias) p.push_back(&bias_);
    return p;
  }

  // Every input pixel meets every weight of its group once.
  int64_t macs(const std::vector<Shape>& in, const Shape&) const override {
    return in[0][1] * (o_.out / o_.groups) * o_.k[0] * o_.k[1] * in[0][2] * in[0][3];
  }

  void init(Rng& rng) override {
    init_pytorch_default(weight_, rng);
    if (o_.bias) init_pytorch_default(bias_, rng);
  }

 private:
  ConvTransposeOptions o_;
  LayerArgs args_;
  ConvGeom g_;
  int64_t in_channels_ = 0;
  Param weight_, bias_;

  int64_t cin_g() const { return in_channels_ / o_.groups; }
  int64_t cout_g() const { return o_.out / o_.groups; }

  int64_t batch_for(int64_t available) const { return images_per_gemm(g_.col_cols(), g_.col_rows(), available); }

  // Group gi of images n0..n0+nb of t (channels x P each, P = H*W of the layer input) side by side
  // (rows of nb*P), or the image itself when nb == 1.
  const float* gather(const Tensor& t, int64_t channels, int64_t n0, int64_t nb, int64_t gi, int tid, int slot) {
    const int64_t P = g_.col_cols(), img = t.numel() / t.dim(0);
    const float* base = t.data() + n0 * img + gi * channels * P;
    if (nb == 1) return base;
    float* buf = scratch(tid, slot, size_t(channels * nb * P));
    gather_side_by_side(base, img, channels, P, nb, buf);
    return buf;
  }

  void forward_images(const Tensor& x, Tensor& out, int64_t n0, int64_t nb, int tid, bool parallel_gemm) {
    const int64_t M = cin_g(), K = g_.col_rows(), P = g_.col_cols(), L = nb * P;
    const int64_t out_img = out.numel() / out.dim(0), out_group = cout_g() * g_.H * g_.W;
    auto gemm = parallel_gemm ? sgemm_parallel : sgemm;
    for (int64_t gi = 0; gi < o_.groups; ++gi) {
      const float* xb = gather(x, M, n0, nb, gi, tid, 2);
      const float* w = weight_.value.data() + gi * M * K;
      float* col = scratch(tid, 0, size_t(K * L));
      gemm(true, false, int(K), int(L), int(M), 1.f, w, int(K), xb, int(L), 0.f, col, int(L));
      for (int64_t i = 0; i < nb; ++i) {
        float* y = out.data() + (n0 + i) * out_img + gi * out_group;
        std::memset(y, 0, sizeof(float) * size_t(out_group));
        col2im(col + i * P, g_, y, L);
      }
    }
    if (o_.bias) add_channel_bias(out.data() + n0 * out_img, bias_.value.data(), nb, o_.out, int64_t(g_.H) * g_.W);
  }

  void backward_images(const Tensor& x, const Tensor& dout, Tensor* dx, float* dw, int64_t n0, int64_t nb, int tid) {
    const int64_t M = cin_g(), K = g_.col_rows(), P = g_.col_cols(), L = nb * P;
    const int64_t in_img = x.numel() / x.dim(0), out_img = dout.numel() / dout.dim(0);
    const int64_t out_group = cout_g() * g_.H * g_.W;
    for (int64_t gi = 0; gi < o_.groups; ++gi) {
      float* dcol = scratch(tid, 0, size_t(K * L));
      for (int64_t i = 0; i < nb; ++i)
        im2col(dout.data() + (n0 + i) * out_img + gi * out_group, g_, dcol + i * P, L);
      if (dw) {
        const float* xb = gather(x, M, n0, nb, gi, tid, 2);
        sgemm(false, true, int(M), int(K), int(L), 1.f, xb, int(L), dcol, int(L), 1.f, dw + gi * M * K, int(K));
      }
      if (!dx) continue;
      const float* w = weight_.value.data() + gi * M * K;
      float* dx0 = dx->data() + n0 * in_img + gi * M * P;
      if (nb == 1) {
        sgemm(false, false, int(M), int(P), int(K), 1.f, w, int(K), dcol, int(L), 0.f, dx0, int(P));
        continue;
      }
      float* dxb = scratch(tid, 3, size_t(M * L));
      sgemm(false, false, int(M), int(L), int(K), 1.f, w, int(K), dcol, int(L), 0.f, dxb, int(L));
      scatter_side_by_side(dxb, M, P, nb, dx0, in_img);
    }
  }
};

}  // namespace

ConvTransposeOptions parse_conv_transpose2d(const LayerArgs& args) {
  ConvTransposeOptions o;
  o.out = args.get_int("out");
  o.k = args.get_ints("k", 2, {});
  if (o.k.empty()) args.fail("missing required argument 'k' for layer type '" + args.type() + "'");
  o.stride = args.get_ints("stride", 2, {1, 1});
  o.pad = args.get_ints("pad", 2, {0, 0});
  o.output_pad = args.get_ints("output_pad", 2, {0, 0});
  o.dilation = args.get_ints("dilation", 2, {1, 1});
  o.groups = args.get_int("groups", 1);
  o.bias = args.get_bool("bias", true);
  args.finish();
  if (o.out < 1) args.fail("out", "expects an integer >= 1");
  for (auto v : o.k) if (v < 1) args.fail("k", "expects kernel sizes >= 1");
  for (auto v : o.stride) if (v < 1) args.fail("stride", "expects strides >= 1");
  for (auto v : o.pad) if (v < 0) args.fail("pad", "expects padding >= 0");
  for (auto v : o.dilation) if (v < 1) args.fail("dilation", "expects dilation >= 1");
  for (int d = 0; d < 2; ++d)
    if (o.output_pad[d] < 0 || (o.output_pad[d] >= o.stride[d] && o.output_pad[d] >= o.dilation[d]))
      args.fail("output_pad", "must be >= 0 and smaller than either stride or dilation (as PyTorch)");
  if (o.groups < 1) args.fail("groups", "expects an integer >= 1");
  return o;
}

std::unique_ptr<Layer> make_conv_transpose2d(const LayerArgs& args) {
  return std::make_unique<ConvTranspose2d>(parse_conv_transpose2d(args), args);
}

}  // namespace cnn
