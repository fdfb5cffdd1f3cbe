// Shortcut: the skip branch of a residual block, decided by the shapes at infer().
//   {shortcut: {out: 128, stride: 2, type: B}, name: downsample}
// When the input already has `out` channels and stride is 1 it is the identity (no parameters).
// Otherwise, by type:
//   B (default)  a 1x1 convolution (stride, no bias) + BatchNorm, as torchvision's `downsample`:
//                parameters "0.weight", "1.weight", "1.bias" and buffers "1.running_mean",
//                "1.running_var", "1.num_batches_tracked", so a node named `layer2.0.downsample`
//                has torchvision's state_dict keys. Built from the registered conv and bn layers.
//   A            He et al. 2015's CIFAR option A (akamaster's implementation):
//                F.pad(x[:, :, ::stride, ::stride], channels (out-C)//2 before, the rest after).
//                In inference it takes the block's add and ReLU (the chain after it: the other
//                branch's output as its residual) in one pass, kernels/subsample_pad_add.h, with
//                the residual and the output in blocked planes when the Net hands them over.
//   identity     no shortcut at all (the branch contributes zeros): MobileNetV2's residual, which
//                exists only when stride == 1 and the channels match (torchvision's use_res_connect).
#include <algorithm>
#include <cstring>

#include "core/isa.h"
#include "core/parallel.h"
#include "kernels/subsample_pad_add.h"
#include "layers/blocked_plane.h"
#include "layers/layer_args.h"
#include "layers/layer.h"
#include "layers/options.h"
#include "layers/registry.h"

namespace cnn {
namespace {

using Kind = ShortcutKind;

LayerArgs inner_args(const LayerArgs& outer, const std::string& suffix, const std::string& type,
                     const std::vector<std::pair<std::string, std::string>>& kv) {
  LayerArgs a(outer.path() + "." + suffix, type, outer.loc());
  for (const auto& [k, v] : kv) a.set(k, ArgValue{{v}, false, outer.loc()});
  return a;
}

class Shortcut : public Layer {
 public:
  Shortcut(ShortcutOptions o, const LayerArgs& args) : o_(std::move(o)), out_(o_.out), stride_(o_.stride), args_(args) {}

  Shape infer(const std::vector<Shape>& in) override {
    const Shape& s = in[0];
    if (s.size() != 4) args_.fail("shortcut expects an N x C x H x W input, got " + shape_str(s));
    const int64_t C = s[1];
    if (C_ && C != C_) args_.fail("input channels changed from " + std::to_string(C_) + " to " + std::to_string(C));
    if (!C_) {
      C_ = C;
      kind_ = shortcut_kind(o_, C);
      if (kind_ == Kind::pad && out_ < C)
        args_.fail("type A pads channels: out (" + std::to_string(out_) + ") must be at least the input channels (" +
                   std::to_string(C) + ")");
      if (kind_ == Kind::projection) {
        conv_ = make_layer(inner_args(args_, "0", "conv",
                                      {{"out", std::to_string(out_)}, {"k", "1"}, {"stride", std::to_string(stride_)},
                                       {"bias", "false"}}));
        bn_ = make_layer(inner_args(args_, "1", "bn", {}));
      }
    }
    if (kind_ == Kind::identity) return s;
    if (kind_ == Kind::pad) {
      const BlockedConvKernel& k = blocked_conv_kernel(active_isa(), int(out_));
      pad_ = plan_subsample_pad_add(int(C), int(s[2]), int(s[3]), int(out_), int((out_ - C) / 2), int(stride_), k);
    }
    if (kind_ == Kind::projection) {
      Shape o = bn_->infer({conv_->infer(in)});
      planned_ = numel_of(o);
      if (!named_) {  // the inner layers create their parameters at their first infer()
        for (Param* p : conv_->params()) p->name = "0." + p->name;
        for (Param* p : bn_->params()) p->name = "1." + p->name;
        for (Buffer* b : bn_->buffers()) b->name = "1." + b->name;
        named_ = true;
      }
      return o;
    }
    return {s[0], out_, (s[2] + stride_ - 1) / stride_, (s[3] + stride_ - 1) / stride_};
  }

  // projection: the conv's output (BN's input), and in training its gradient.
  size_t state_floats(bool train) const override {
    if (kind_ != Kind::projection) return 0;
    return train ? 2 * size_t(planned_) : fused_ ? 0 : size_t(planned_);
  }
  size_t derived_weight_floats(bool train) const override {
    return kind_ == Kind::projection ? conv_->derived_weight_floats(train) : 0;
  }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, RunContext& ctx) override {
    const Tensor& x = *in[0];
    switch (kind_) {
      case Kind::identity: parallel_copy(x.data(), out.data(), x.numel()); break;
      case Kind::zero: out.zero(); break;
      case Kind::projection:
        if (fused_ && !ctx.train) {  // BN folded into the conv (fuse_for_inference)
          conv_->forward(in, out, ctx);
          break;
        }
        mid_.resize(out.shape());
        if (ctx.train) {  // the conv's output pass gives the BN its sums, as the Net plans outside
          RunContext inner = ctx;
          inner.channel_sums_out = &mid_sums_;
          conv_->forward(in, mid_, inner);
          inner.channel_sums_out = nullptr;
          inner.channel_sums_in = &mid_sums_;
          bn_->forward({&mid_}, out, inner);
          break;
        }
        conv_->forward(in, mid_, ctx);
        bn_->forward({&mid_}, out, ctx);
        break;
      case Kind::pad:
        if (pad_fused_ && !ctx.train) {
          pad_add_forward(x, *in.back(), out, ctx);
          break;
        }
        subsample_pad<false>(x, out);
        break;
    }
  }

  void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                const std::vector<Tensor*>& din, RunContext& ctx) override {
    Tensor* dx = din[0];
    switch (kind_) {
      case Kind::identity:
        if (dx) parallel_copy(dout.data(), dx->data(), dout.numel());
        break;
      case Kind::zero:
        if (dx) dx->zero();
        break;
      case Kind::projection:
      {
        // The conv packs its output gradient through the BN's input gradient (a packed BatchNorm,
        // as the Net plans outside): dmid_ is written only when the BN does not fill the map.
        dmid_.resize(out.shape());
        RunContext inner = ctx;
        mid_grad_.filled = false;
        inner.bn_grad_map = conv_->packs_output_grad() ? &mid_grad_ : nullptr;
        bn_->backward({&mid_}, out, dout, {&dmid_}, inner);
        inner.bn_grad_map = nullptr;
        inner.output_grad_map = &mid_grad_;
        conv_->backward(in, mid_, dmid_, din, inner);
        break;
      }
      case Kind::pad:
        if (dx) subsample_pad<true>(dout, *dx);
        break;
    }
  }

  FusionInfo fusion_info() const override {
    FusionInfo f;
    if (kind_ == Kind::identity) f.kind = FusionInfo::Kind::identity;
    return f;
  }
  // A projection folds its BN into its conv and passes the rest of the chain on to it; option A
  // takes a chain of an add (and a clamp).
  bool fuse_for_inference(const InferenceFusion* f) override {
    pad_fused_ = false;
    if (kind_ == Kind::pad) {
      if (!f || f->bn || !f->residual) return false;
      pad_fused_ = true, clamp_ = f->clamp, lo_ = f->lo, hi_ = f->hi;
      return true;
    }
    if (kind_ != Kind::projection || (f && f->bn)) return false;
    InferenceFusion inner;
    if (f) inner = *f, inner.bn = bn_->fusion_info().bn;
    fused_ = conv_->fuse_for_inference(f ? &inner : nullptr) && f;
    return fused_;
  }

  // A fused projection is its conv in eval forwards: blocked handoffs go to the conv.
  const BlockedConvPlan* blocked_input_plane() const override {
    return kind_ == Kind::projection && fused_ ? conv_->blocked_input_plane() : nullptr;
  }
  bool write_blocked_output(const BlockedConvPlan* plane) override {
    if (kind_ == Kind::pad) return pad_plane(plane, pad_out_, pad_.M, pad_.OH, pad_.OW);
    return kind_ == Kind::projection && (fused_ || !plane) && conv_->write_blocked_output(plane);
  }
  void read_blocked_input(bool on) override {
    if (kind_ == Kind::projection) conv_->read_blocked_input(on && fused_);
  }
  bool reads_any_blocked_input() const override { return kind_ == Kind::pad && pad_fused_; }
  bool read_blocked_input_plane(const BlockedConvPlan* plane) override {
    return kind_ == Kind::pad && pad_plane(plane, pad_in_, pad_.C, pad_.H, pad_.W);
  }
  bool read_blocked_residual(const BlockedConvPlan* plane) override {
    if (kind_ == Kind::pad) return pad_plane(plane, pad_residual_, pad_.M, pad_.OH, pad_.OW);
    return kind_ == Kind::projection && (fused_ || !plane) && conv_->read_blocked_residual(plane);
  }
  const BlockedConvPlan* blocked_output_plane() const override {
    return kind_ == Kind::projection && fused_ ? conv_->blocked_output_plane() : nullptr;
  }

  bool passes_input_through() const override { return kind_ == Kind::identity; }
  std::string kernel() const override { return kind_ == Kind::projection ? conv_->kernel() : ""; }
  size_t workspace_floats(bool train) const override {
    if (kind_ == Kind::pad) return train ? 0 : size_t(num_threads() * subsample_pad_add_scratch_floats(pad_));
    return kind_ == Kind::projection ? conv_->workspace_floats(train) : 0;
  }

  std::vector<Param*> params() override {
    if (kind_ != Kind::projection) return {};
    std::vector<Param*> p = conv_->params();
    for (Param* q : bn_->params()) p.push_back(q);
    return p;
  }
  std::vector<Buffer*> buffers() override { return kind_ == Kind::projection ? bn_->buffers() : std::vector<Buffer*>{}; }

  int64_t macs(const std::vector<Shape>& in, const Shape& out) const override {
    return kind_ == Kind::projection ? conv_->macs(in, out) : 0;  // the conv's; its output shape is ours
  }

  void init(Rng& rng) override {
    if (kind_ == Kind::projection) {
      conv_->init(rng);
      bn_->init(rng);
    }
  }

 private:
  // Option A's input, output or residual in a blocked plane: `plane` with this layer's lanes and
  // the tensor's channels and map, kept in `at` (null: NCHW again).
  bool pad_plane(const BlockedConvPlan* plane, PlanePixels& at, int C, int H, int W) {
    at.set(nullptr);
    if (!plane || !pad_fused_ || !plane_holds(*plane, pad_.kernel->lanes, C, H, W)) return false;
    at.set(plane);
    return true;
  }

  // Fused eval of option A: clamp(subsample_pad(x) + residual).
  void pad_add_forward(const Tensor& x, const Tensor& residual, Tensor& out, RunContext& ctx) {
    SubsamplePadAddIo io;
    io.x = x.data(), io.x_layout = pad_in_.layout();
    io.r = residual.data(), io.r_layout = pad_residual_.layout();
    io.y = out.data(), io.y_layout = pad_out_.layout();
    io.clamp = clamp_, io.lo = lo_, io.hi = hi_;
    io.scratch = workspace_for(ctx, own_workspace_, workspace_floats(false));
    subsample_pad_add_run(pad_, x.dim(0), io);
  }

  // d[j] = x[j * stride] for j < n; kStride > 0: the stride known to the compiler (ResNet's 2:
  // session 23, ResNet-20 b128 training, 5 alternating runs of `--layers`, its shortcuts' forward
  // 0.55-0.84 and 0.30 ms with the stride a variable, 0.42 and 0.19 without).
  template <int kStride>
  static void pick_row(const float* x, int64_t n, float* d, int64_t stride = kStride) {
    if constexpr (kStride > 0) stride = kStride;
    for (int64_t j = 0; j < n; ++j) d[j] = x[j * stride];
  }

  template <bool kBackward>
  void subsample_pad(const Tensor& src, Tensor& dst) const {
    const Tensor& x = kBackward ? dst : src;  // the input-shaped tensor
    const Tensor& y = kBackward ? src : dst;  // the output-shaped tensor
    const int64_t N = x.dim(0), H = x.dim(2), W = x.dim(3), OH = y.dim(2), OW = y.dim(3), s = stride_;
    const int64_t before = (out_ - C_) / 2;
    const float* from = src.data();
    float* to = dst.data();
    // One plane of the written tensor per step, every element written once (ResNet-20's two
    // shortcuts took 2.7 ms forward and 2 ms backward per step, serial, zeroing all first).
    const int64_t planes = N * (kBackward ? C_ : out_);
    parallel_for(planes, [&](int64_t p0, int64_t p1, int) {
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t n = p / (planes / N), c = p % (planes / N);
        if constexpr (kBackward) {  // dx plane (n, c) from dy plane (n, before + c): zeros off the grid
          const float* g = from + (n * out_ + before + c) * OH * OW;
          float* d = to + p * H * W;
          std::fill(d, d + H * W, 0.f);
          for (int64_t i = 0; i < OH; ++i)
            for (int64_t j = 0; j < OW; ++j) d[i * s * W + j * s] = g[i * OW + j];
        } else {  // y plane (n, c): zeros in the padding channels
          float* d = to + p * OH * OW;
          const int64_t ci = c - before;
          if (ci < 0 || ci >= C_) {
            std::fill(d, d + OH * OW, 0.f);
            continue;
          }
          const float* xs = from + (n * C_ + ci) * H * W;
          for (int64_t i = 0; i < OH; ++i)
            if (s == 2) pick_row<2>(xs + i * s * W, OW, d + i * OW);
            else pick_row<0>(xs + i * s * W, OW, d + i * OW, s);
        }
      }
    });
  }

  ShortcutOptions o_;
  int64_t out_, stride_;
  LayerArgs args_;
  int64_t C_ = 0;
  Kind kind_ = Kind::identity;
  bool named_ = false;
  bool fused_ = false;  // fuse_for_inference: the conv writes the output in eval forwards
  std::unique_ptr<Layer> conv_, bn_;
  Tensor mid_, dmid_;
  ChannelSums mid_sums_;  // training: mid_'s, from the conv
  BnPackSlot mid_grad_;   // training: the BN's input gradient as a map for the conv's backward
  int64_t planned_ = 0;  // projection: output elements at the planned batch
  // Option A in inference (fuse_for_inference): the add's other input as residual, then the clamp.
  SubsamplePadAddPlan pad_;
  bool pad_fused_ = false, clamp_ = false;
  float lo_ = 0.f, hi_ = 0.f;
  // read_blocked_input_plane, write_blocked_output, read_blocked_residual
  PlanePixels pad_in_, pad_out_, pad_residual_;
  Tensor own_workspace_;  // used only when the layer runs outside a Net
};

}  // namespace

ShortcutKind shortcut_kind(const ShortcutOptions& o, int64_t in_channels) {
  if (in_channels == o.out && o.stride == 1) return ShortcutKind::identity;
  if (o.type == "A") return ShortcutKind::pad;
  if (o.type == "identity") return ShortcutKind::zero;
  return ShortcutKind::projection;
}

ShortcutOptions parse_shortcut(const LayerArgs& args) {
  ShortcutOptions o;
  o.out = args.get_int("out");
  o.stride = args.get_int("stride", 1);
  o.type = args.get_string("type", "B");
  args.finish();
  const int64_t out = o.out, stride = o.stride;
  const std::string& type = o.type;
  if (out < 1) args.fail("out", "expects an integer >= 1");
  if (stride < 1) args.fail("stride", "expects an integer >= 1");
  if (type != "A" && type != "B" && type != "identity")
    args.fail("type", "expects A (zero-padding), B (1x1 conv + BN projection) or identity (no shortcut when the "
                      "shapes differ), got '" + type + "'");
  return o;
}

std::unique_ptr<Layer> make_shortcut(const LayerArgs& args) { return std::make_unique<Shortcut>(parse_shortcut(args), args); }

}  // namespace cnn
