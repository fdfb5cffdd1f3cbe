// Conv2d. The algorithm is chosen when the layer is planned (infer, once per batch size):
// - depthwise (groups == channels): the direct depthwise kernel;
// - direct: groups-1 convolutions with the row-convolution kernels of the best ISA enabled
//   (kernels/conv_direct.h), except where SGEMM measured faster (direct_conv_preferred: some
//   strided, 1x1 and small-map shapes, by the ISA of the kernels and of OpenBLAS's);
// - im2col + SGEMM per image and group otherwise (1x1/stride-1 convolutions skip im2col),
//   parallel over images, each thread with its own column workspace and weight-gradient partial.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "layers/layer_args.h"
#include "core/blas_core.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "core/isa.h"
#include "kernels/blocked_depthwise.h"
#include "kernels/blocked_stem.h"
#include "kernels/channel_stats.h"
#include "kernels/conv_direct.h"
#include "kernels/depthwise.h"
#include "kernels/gemm.h"
#include "kernels/im2col.h"
#include "layers/blocked_plane.h"
#include "layers/conv_common.h"
#include "layers/conv_inference.h"
#include "layers/init.h"
#include "layers/layer.h"
#include "layers/options.h"

namespace cnn {
namespace {

class Conv2d : public Layer {
 public:
  Conv2d(Conv2dOptions o, const LayerArgs& args) : o_(std::move(o)), args_(args) {}

  Shape infer(const std::vector<Shape>& in) override {
    const Shape& s = in[0];
    if (s.size() != 4) args_.fail("conv expects an N x C x H x W input, got " + shape_str(s));
    const int64_t C = s[1];
    if (C % o_.groups || o_.out % o_.groups)
      args_.fail("groups=" + std::to_string(o_.groups) + " must divide input channels (" + std::to_string(C) +
                 ") and out (" + std::to_string(o_.out) + ")");
    if (!weight_.value.empty() && C != in_channels_)
      args_.fail("input channels changed from " + std::to_string(in_channels_) + " to " + std::to_string(C));
    in_channels_ = C;
    g_.C = static_cast<int>(C / o_.groups);
    g_.H = static_cast<int>(s[2]);
    g_.W = static_cast<int>(s[3]);
    g_.KH = int(o_.k[0]), g_.KW = int(o_.k[1]);
    g_.SH = int(o_.stride[0]), g_.SW = int(o_.stride[1]);
    g_.PH = int(o_.pad[0]), g_.PW = int(o_.pad[1]);
    g_.PH_end = g_.PW_end = -1;
    g_.DH = int(o_.dilation[0]), g_.DW = int(o_.dilation[1]);
    g_.finish();
    if (g_.OH <= 0 || g_.OW <= 0)
      args_.fail("input " + shape_str({s[1], s[2], s[3]}) + " is too small for kernel " + std::to_string(g_.KH) + "x" +
                 std::to_string(g_.KW) + " with this padding/dilation");
    if (weight_.value.empty()) {
      weight_.name = "weight";
      weight_.value = Tensor({o_.out, g_.C, g_.KH, g_.KW});
      weight_.grad = Tensor(weight_.value.shape());
      weight_.init_kind = "conv";
      weight_.fan_in = int64_t(g_.C) * g_.KH * g_.KW;
      weight_.fan_out = o_.out / o_.groups * g_.KH * g_.KW;
      if (o_.bias) {
        bias_.name = "bias";
        bias_.value = Tensor({o_.out});
        bias_.grad = Tensor({o_.out});
        bias_.init_kind = "bias";
        bias_.fan_in = weight_.fan_in;
        bias_.decay = true;
      }
    }
    plan_algorithm(s[0]);
    return {s[0], o_.out, g_.OH, g_.OW};
  }

  std::string kernel() const override {
    switch (algo_) {
      case Algo::depthwise: return blocked_depthwise_on() ? "blocked depthwise " + std::string(dw_plane_.kernel->name) : "depthwise";
      case Algo::direct:  // "blocked": forward in the blocked layout, "direct": the row layout only
        if (blocked_stem_fits()) return "blocked stem " + std::string(stem_.conv.kernel->name);
        // Winograd in training; in a fused inference where it suits there too (infer_winograd_).
        if (direct_.wino.on() && (!infer_.on || infer_winograd_)) return "blocked+winograd " + std::string(direct_.kernel->name);
        return (direct_.forward_blocked() ? "blocked " : "direct ") + std::string(direct_.kernel->name);
      case Algo::im2col: break;
    }
    return g_.is_pointwise() ? "gemm" : "im2col+gemm";
  }

  // Direct path: the input rows, and the packed weights unless inference keeps its own.
  // im2col path: each thread's GemmBuffers.
  size_t workspace_floats(bool train) const override {
    if (algo_ == Algo::im2col) return size_t(num_threads()) * gemm_buffers_floats(train);
    if (algo_ == Algo::depthwise)
      return !train && blocked_depthwise_on() ? size_t(num_threads() * blocked_depthwise_scratch_floats(dw_plane_)) : 0;
    if (algo_ != Algo::direct) return 0;
    if (!train && blocked_stem_fits()) return size_t(num_threads() * blocked_stem_scratch_floats(stem_));
    // Training, and eval without fusion, pack their weights per call (Winograd's when it suits).
    const size_t fwd = direct_.pipelined_forward_floats(num_threads()) +
                       (infer_.on && !train ? 0 : direct_.pipelined_weight_floats());
    return train ? std::max(fwd, direct_.backward_floats(num_threads())) : fwd;
  }
  size_t derived_weight_floats(bool train) const override { return train ? 0 : infer_.floats(); }

  bool fuse_for_inference(const InferenceFusion* f) override {
    prepare_conv_inference(infer_, f, weight_.value, o_.bias ? &bias_.value : nullptr);
    infer_winograd_ = false;
    stem_packed_ = {};
    if (infer_.on && stem_.conv.kernel && !infer_.residual) {  // the stem path, not the direct one
      infer_.packed = {};
      stem_packed_.resize({blocked_stem_weight_floats(stem_)});
      pack_blocked_stem_weights(stem_, infer_.w, stem_packed_.data());
    } else if (infer_.on && algo_ == Algo::direct) {
      pack_inference_weights();
    } else if (infer_.on && algo_ == Algo::depthwise && dw_plane_.kernel) {
      infer_.packed.resize({blocked_depthwise_weight_floats(dw_plane_)});
      pack_blocked_depthwise_weights(dw_plane_, infer_.w, infer_.packed.data());
    }
    return true;
  }

  const BlockedConvPlan* blocked_input_plane() const override {
    if (direct_blocked()) return &direct_.blocked;
    return blocked_depthwise_fits() ? &dw_plane_ : nullptr;
  }
  void read_blocked_input(bool on) override {
    x_blocked_ = on;
    if (on && blocked_depthwise_fits()) pad_blocked_bias(dw_plane_.L);
  }
  const BlockedConvPlan* blocked_output_plane() const override { return direct_blocked() ? &output_plane_ : nullptr; }
  bool read_blocked_residual(const BlockedConvPlan* plane) override {
    residual_plane_.set(nullptr);
    if (!plane || !infer_.on || !infer_.residual || !direct_blocked() || plane->L != direct_.blocked.L) return false;
    residual_plane_.set(plane);
    return true;
  }
  // Into the reader's plane: the folded bias, the residual and the clamp in the kernel's store;
  // same lanes, channels and map.
  bool write_blocked_output(const BlockedConvPlan* plane) override {
    handoff_.set(nullptr);
    handoff_target_ = {};
    const BlockedConvPlan* own = blocked_stem_fits() ? &stem_.conv : blocked_input_plane();
    if (!plane || !infer_.on || !own) return false;
    const int L = own->kernel->lanes;  // own's input may have other lanes (a stem's planes)
    if (!plane_holds(*plane, L, o_.out, g_.OH, g_.OW)) return false;
    handoff_.set(plane);
    handoff_target_.plane = &handoff_.plane;
    handoff_target_.pix = handoff_.pix.data();
    handoff_target_.bias = pad_blocked_bias(L);
    handoff_target_.clamp = infer_.clamp, handoff_target_.lo = infer_.lo, handoff_target_.hi = infer_.hi;
    return true;
  }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, RunContext& ctx) override {
    const Tensor& x = *in[0];
    const int64_t N = x.dim(0);
    const bool fused = infer_.on && !ctx.train;
    const float* w = fused ? infer_.w : weight_.value.data();
    const float* bias = fused ? infer_.b : o_.bias ? bias_.value.data() : nullptr;
    const float* residual = fused && infer_.residual ? in.back()->data() : nullptr;
    ChannelSums* sums = ctx.train ? ctx.channel_sums_out : nullptr;
    if (sums) sums->sum.resize(size_t(o_.out)), sums->sum_sq.resize(size_t(o_.out));
    if (algo_ == Algo::direct && fused && blocked_stem_fits()) {
      blocked_stem_forward(x, out, ctx);
      return;
    }
    if (algo_ == Algo::direct) {
      double* partials = nullptr;
      if (sums) {  // sums per slot of work, added in slot order (same --threads, same bits)
        sum_partials_.assign(size_t(direct_conv_sum_slots()) * 2 * size_t(o_.out), 0.0);
        partials = sum_partials_.data();
      }
      direct_forward(x, fused, bias, residual, partials, out, ctx);
      if (sums) reduce_slot_sums(partials, direct_conv_sum_slots(), o_.out, sums->sum.data(), sums->sum_sq.data());
      return;
    }
    if (algo_ == Algo::depthwise && fused && blocked_depthwise_on()) {
      depthwise_blocked_forward(x, out, ctx);
    } else if (algo_ == Algo::depthwise) {  // direct kernel, parallel over (image, channel) planes, epilogue included
      const OutputEpilogue e = fused ? OutputEpilogue{residual, infer_.clamp, infer_.lo, infer_.hi} : OutputEpilogue{};
      depthwise_forward(x.data(), w, bias, g_, N, int(in_channels_), int(o_.out / o_.groups), out.data(), e);
    } else if (N < num_threads()) {  // too few images to split: split each GEMM instead
      const GemmBuffers buf = gemm_buffers(gemm_workspace(ctx, false), 0, false);
      for (int64_t n = 0; n < N; ++n) forward_images(x, w, bias, out, n, 1, buf, true);
    } else {
      float* ws = gemm_workspace(ctx, false);
      parallel_for(N, [&](int64_t b, int64_t e, int tid) {
        const GemmBuffers buf = gemm_buffers(ws, tid, false);
        for (int64_t n = b, nb; n < e; n += nb) forward_images(x, w, bias, out, n, nb = batch_for(e - n), buf, false);
      });
    }
    if (fused && algo_ == Algo::im2col) finish_fused_outputs(infer_, residual, out.data(), out.numel());
    if (sums) channel_sums(out.data(), N, o_.out, out.numel() / (N * o_.out), sums->sum.data(), sums->sum_sq.data());
  }

  bool writes_channel_sums() const override { return true; }
  bool packs_input() const override { return packs_input_; }
  bool packs_output_grad() const override { return packs_input_ && !o_.bias; }  // the bias gradient reads dout
  bool backward_reads_output() const override { return false; }
  // The GEMM paths add into dx for free (SGEMM's beta, col2im without clearing first), the direct
  // kernels start their sums from it; the depthwise kernel overwrites it.
  bool can_add_input_grad() const override { return algo_ != Algo::depthwise; }

  void backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, RunContext& ctx) override {
    const Tensor& x = *in[0];
    const int64_t N = x.dim(0);
    if (!ctx.param_grads) {  // frozen: the input gradient only
      if (din[0]) backward_data(x, dout, *din[0], ctx);
      return;
    }
    if (algo_ == Algo::direct) {
      direct_backward(x, dout, din[0], weight_.grad.data(), ctx);
    } else if (algo_ == Algo::depthwise)
      depthwise_backward(x.data(), dout.data(), weight_.value.data(), g_, N, int(in_channels_),
                         int(o_.out / o_.groups), din[0] ? din[0]->data() : nullptr, weight_.grad.data());
    else {
      float* ws = gemm_workspace(ctx, true);
      accumulate_weight_grad_over_images(N, &weight_.grad, [&](int64_t b, int64_t e, int tid, float* dw) {
        const GemmBuffers buf = gemm_buffers(ws, tid, true);
        for (int64_t n = b, nb; n < e; n += nb)
          backward_images(x, dout, din[0], dw, n, nb = batch_for(e - n), buf, ctx.add_input_grad);
      });
    }
    if (o_.bias) accumulate_channel_bias_grad(dout, o_.out, g_.col_cols(), bias_.grad.data());
  }

  std::vector<Param*> params() override {
    std::vector<Param*> p{&weight_};
    if (o_.bias) p.push_back(&bias_);
    return p;
  }

  int64_t macs(const std::vector<Shape>&, const Shape& out) const override {
    return out[1] * out[2] * out[3] * int64_t(g_.C) * g_.KH * g_.KW;
  }

  void init(Rng& rng) override {
    init_pytorch_default(weight_, rng);
    if (o_.bias) init_pytorch_default(bias_, rng);
  }

 private:
  Conv2dOptions o_;
  LayerArgs args_;
  ConvGeom g_;
  int64_t in_channels_ = 0;

  enum class Algo { im2col, depthwise, direct };
  Algo algo_ = Algo::im2col;
  DirectConvPlan direct_;       // for groups of direct_.N images
  DirectConvPlan direct_tail_;  // for the last, smaller group (when N is not a multiple)
  int64_t gemm_images_ = 1;     // im2col path: the most images side by side in one GEMM at the planned batch
  Tensor own_workspace_;  // used only when the layer runs outside a Net
  ConvInference infer_;   // fuse_for_inference
  bool infer_winograd_ = false;  // infer_.packed holds Winograd's weights (winograd_suits_inference)
  bool x_blocked_ = false;  // read_blocked_input
  bool packs_input_ = false;  // packs_input: the direct path's plans pack x and dy
  BlockedConvPlan output_plane_;  // blocked_output_plane
  // Inference, multiplier-1 depthwise with a SIMD blocked kernel: its input plane (the
  // convolution read densely over all channels: plan_blocked_conv); kernel null: none.
  BlockedConvPlan dw_plane_;
  // Inference, a convolution of few input channels on the row kernels (a stem): its input rows as
  // planes read by the blocked tile (kernels/blocked_stem.h); conv.kernel null: none.
  BlockedStemPlan stem_;
  Tensor stem_packed_;
  std::vector<float> blocked_bias_;  // pad_blocked_bias
  PlanePixels handoff_;                  // write_blocked_output: the reader's plane
  BlockedOutputTarget handoff_target_;   // into handoff_, with the bias and clamp
  PlanePixels residual_plane_;           // read_blocked_residual
  std::vector<double> sum_partials_;  // channel sums per thread (RunContext::channel_sums_out)

  bool direct_blocked() const { return algo_ == Algo::direct && direct_.forward_blocked(); }
  bool blocked_stem_fits() const {
    return algo_ == Algo::direct && stem_.conv.kernel && infer_.on && !infer_.residual &&
           stem_packed_.numel() == blocked_stem_weight_floats(stem_);
  }
  // The blocked depthwise path can run (its input and output planes are the handoff planner's).
  bool blocked_depthwise_fits() const {
    return algo_ == Algo::depthwise && dw_plane_.kernel && infer_.on && !infer_.residual &&
           infer_.packed.numel() == blocked_depthwise_weight_floats(dw_plane_);
  }
  // Fused inference's packed weights for the planned batch: Winograd's where it suits
  // (winograd_suits_inference: enough tiles per call), else the direct kernel's.
  bool inference_winograd() const { return direct_.wino.on() && winograd_suits_inference(g_, int(o_.out), direct_.N); }
  void pack_inference_weights() {
    infer_winograd_ = inference_winograd();
    if (infer_winograd_) {
      infer_.packed.resize({int64_t(direct_.pipelined_weight_floats())});
      pack_pipelined_weights(direct_, infer_.w, infer_.packed.data());
    } else {
      infer_.packed.resize({int64_t(direct_.packed_weight_floats())});
      pack_direct_conv_weights(direct_, infer_.w, infer_.packed.data());
    }
  }

  // The bias in use padded to whole blocks of L lanes (blocked outputs), or null without one.
  const float* pad_blocked_bias(int L) {
    if (!infer_.b) return nullptr;
    blocked_bias_.assign(size_t((o_.out + L - 1) / L * L), 0.f);
    std::copy(infer_.b, infer_.b + o_.out, blocked_bias_.begin());
    return blocked_bias_.data();
  }
  // It runs: the input or the output is handed over blocked (else the plane kernels need no packing).
  bool blocked_depthwise_on() const { return blocked_depthwise_fits() && (x_blocked_ || handoff_.on()); }

  void plan_algorithm(int64_t N) {
    gemm_images_ = batch_for(N);
    packs_input_ = false;
    // groups == input channels (> 1): the direct depthwise kernel instead of one tiny GEMM per channel.
    if (o_.groups > 1 && o_.groups == in_channels_) {
      algo_ = Algo::depthwise;
      dw_plane_ = {};
      const BlockedConvKernel& k = blocked_conv_kernel(active_isa(), int(o_.out));
      if (o_.out == in_channels_ && k.isa != Isa::generic) {
        ConvGeom dense = g_;
        dense.C = int(in_channels_);
        dw_plane_ = plan_blocked_conv(dense, int(o_.out), k);
      }
      return;
    }
    algo_ = Algo::im2col;
    const RowConvKernel& k = select_row_conv_kernel();
    // The naive reference kernel is slower than im2col + GEMM: the direct path needs SIMD kernels.
    if (o_.groups != 1 || k.isa == Isa::generic || !direct_conv_preferred(g_, k.isa, blas_core_isa(blas_core_name())))
      return;
    // Groups of images bound the workspace (ImageNet batches would need gigabytes of rows) and
    // keep the packed rows in cache between packing and the kernel.
    const int64_t group = direct_conv_group(g_, int(o_.out), N);
    direct_ = plan_direct_conv(g_, int(o_.out), group, k);
    if (!direct_conv_fits(direct_)) return;
    if (N % group) direct_tail_ = plan_direct_conv(g_, int(o_.out), N % group, k);
    algo_ = Algo::direct;
    packs_input_ = direct_.packs_input_and_output_grad() && (N % group == 0 || direct_tail_.packs_input_and_output_grad());
    stem_ = {};
    const BlockedConvKernel& bk = blocked_conv_kernel(active_isa(), int(o_.out), g_.KH * g_.KW);
    if (!direct_.forward_blocked() && o_.groups == 1 && blocked_stem_suits(g_) && bk.isa != Isa::generic)
      stem_ = plan_blocked_stem(g_, int(o_.out), bk);
    if (direct_.forward_blocked()) {  // the output read as a 1x1 convolution would
      ConvGeom out;
      out.C = int(o_.out), out.H = g_.OH, out.W = g_.OW;
      out.finish();
      output_plane_ = plan_blocked_conv(out, int(o_.out), *direct_.blocked.kernel);
    }
  }

  int64_t batch_for(int64_t available) const { return images_per_gemm(g_.col_cols(), g_.col_rows(), available); }

  // One thread's buffers on the im2col path, for up to gemm_images_ images side by side (L columns):
  // the column matrix (K x L), the output or output gradient side by side (M x L) and, backward,
  // the column gradient (K x L).
  struct GemmBuffers {
    float* col;
    float* out;
    float* dcol;
  };
  size_t gemm_buffers_floats(bool train) const {
    const int64_t L = gemm_images_ * g_.col_cols(), K = g_.col_rows(), M = o_.out / o_.groups;
    return size_t((train ? 2 * K : K) * L + M * L);
  }
  // Every thread's buffers, taken before the threads start (the workspace may grow here).
  float* gemm_workspace(RunContext& ctx, bool train) {
    return workspace_for(ctx, own_workspace_, size_t(num_threads()) * gemm_buffers_floats(train));
  }
  GemmBuffers gemm_buffers(float* workspace, int tid, bool train) const {
    float* ws = workspace + size_t(tid) * gemm_buffers_floats(train);
    const int64_t L = gemm_images_ * g_.col_cols(), K = g_.col_rows();
    return {ws, ws + K * L, train ? ws + K * L + int64_t(o_.out / o_.groups) * L : nullptr};
  }

  int64_t group_in() const { return int64_t(g_.C) * g_.H * g_.W; }

  // The column matrix (K x nb*P) of images n0..n0+nb of group gi, in col, or the image
  // itself for a single pointwise image.
  const float* columns(const Tensor& x, int64_t n0, int64_t nb, int64_t gi, float* col) {
    const int64_t K = g_.col_rows(), P = g_.col_cols(), L = nb * P, in_img = x.numel() / x.dim(0);
    const bool pw = g_.is_pointwise();
    if (pw && nb == 1) return x.data() + n0 * in_img + gi * group_in();
    const float* x0 = x.data() + n0 * in_img + gi * group_in();
    if (pw) gather_side_by_side(x0, in_img, K, P, nb, col);
    else
      for (int64_t i = 0; i < nb; ++i) im2col(x0 + i * in_img, g_, col + i * P, L);
    return col;
  }

  // The direct path over groups of images, with the weights packed once for the whole batch
  // (inference keeps them packed: infer_.packed).
  void direct_forward(const Tensor& x, bool fused, const float* bias, const float* residual, double* slot_sums,
                      Tensor& out, RunContext& ctx) {
    const int64_t N = x.dim(0), in_img = x.numel() / N, out_img = out.numel() / N;
    // A batch size planned since the fusion may take the other packing (once per size).
    if (fused && !infer_.packed.empty() && inference_winograd() != infer_winograd_) pack_inference_weights();
    const bool own_pack = !fused || infer_.packed.empty(), pipelined = !fused && direct_.forward_blocked();
    const size_t xrows_floats = direct_.pipelined_forward_floats(num_threads());
    const size_t pack_floats = pipelined ? direct_.pipelined_weight_floats() : direct_.packed_weight_floats();
    float* ws = workspace_for(ctx, own_workspace_, xrows_floats + (own_pack ? pack_floats : 0));
    const float* wpacked = infer_.packed.data();
    float* xrows = ws;
    if (own_pack) {
      float* dst = ws + xrows_floats;
      const float* w = fused ? infer_.w : weight_.value.data();
      if (pipelined) pack_pipelined_weights(direct_, w, dst);
      else pack_direct_conv_weights(direct_, w, dst);
      wpacked = dst;
    }
    DirectForwardIo io;  // the blocked handoffs, in fused eval forwards only
    io.x_blocked = fused && x_blocked_;
    io.x_map = ctx.input_map ? &ctx.input_map->map : nullptr;
    io.y_target = fused && handoff_.on() ? &handoff_target_ : nullptr;
    io.winograd = fused && !own_pack && infer_winograd_;  // infer_.packed: pack_pipelined_weights
    if (pipelined) {
      ConvEpilogue e{bias};
      e.slot_sums = slot_sums;
      direct_conv_forward_pipelined(direct_, N, x.data(), wpacked, e, out.data(), xrows, io.x_map);
      return;
    }
    const bool res_blocked = fused && residual && residual_plane_.on();
    const int64_t x_at = io.x_blocked ? direct_.blocked.x_image : in_img;
    const int64_t y_at = io.y_target ? handoff_.plane.x_image : out_img;
    for (int64_t n = 0; n < N; n += direct_.N) {
      const DirectConvPlan& p = N - n >= direct_.N ? direct_ : direct_tail_;
      if (res_blocked) {
        const BlockedConvPlan& r = residual_plane_.plane;
        io.residual = {residual + n * r.x_image, r.x_image, r.x_block, 1, residual_plane_.pix.data(), int(o_.out)};
      }
      ConvEpilogue e = fused ? epilogue_of(infer_, bias, residual && !res_blocked ? residual + n * out_img : nullptr)
                             : ConvEpilogue{bias};
      e.slot_sums = slot_sums;
      direct_conv_forward(p, x.data() + n * x_at, wpacked, e, out.data() + n * y_at, xrows, io);
    }
  }

  // Fused eval of a convolution of few input channels (blocked_stem_fits).
  void blocked_stem_forward(const Tensor& x, Tensor& out, RunContext& ctx) {
    BlockedStemIo io;
    io.x = x.data(), io.y = out.data(), io.target = handoff_.on() ? &handoff_target_ : nullptr;
    io.bias = infer_.b, io.clamp = infer_.clamp, io.lo = infer_.lo, io.hi = infer_.hi;
    io.scratch = workspace_for(ctx, own_workspace_, workspace_floats(false));
    blocked_stem_run(stem_, x.dim(0), stem_packed_.data(), io);
  }

  // Fused eval with a blocked input or output (blocked_depthwise_on): the blocked kernel.
  void depthwise_blocked_forward(const Tensor& x, Tensor& out, RunContext& ctx) {
    BlockedDepthwiseIo io;
    io.x = x.data(), io.x_blocked = x_blocked_;
    io.y = out.data(), io.target = handoff_.on() ? &handoff_target_ : nullptr;
    io.bias = infer_.b ? blocked_bias_.data() : nullptr;
    io.clamp = infer_.clamp, io.lo = infer_.lo, io.hi = infer_.hi;
    io.scratch = workspace_for(ctx, own_workspace_, workspace_floats(false));
    blocked_depthwise_run(dw_plane_, x.dim(0), infer_.packed.data(), io);
  }

  void forward_images(const Tensor& x, const float* weight, const float* bias, Tensor& out, int64_t n0, int64_t nb,
                      const GemmBuffers& buf, bool parallel_gemm) {
    const int64_t M = o_.out / o_.groups, K = g_.col_rows(), P = g_.col_cols(), L = nb * P;
    const int64_t out_img = out.numel() / out.dim(0);
    auto gemm = parallel_gemm ? sgemm_parallel : sgemm;
    for (int64_t gi = 0; gi < o_.groups; ++gi) {
      const float* col = columns(x, n0, nb, gi, buf.col);
      const float* w = weight + gi * M * K;
      if (nb == 1) {
        gemm(false, false, int(M), int(P), int(K), 1.f, w, int(K), col, int(P), 0.f,
             out.data() + n0 * out_img + gi * M * P, int(P));
        continue;
      }
      float* tmp = buf.out;
      gemm(false, false, int(M), int(L), int(K), 1.f, w, int(K), col, int(L), 0.f, tmp, int(L));
      scatter_side_by_side(tmp, M, P, nb, out.data() + n0 * out_img + gi * M * P, out_img);
    }
    if (bias) add_channel_bias(out.data() + n0 * out_img, bias, nb, o_.out, P);
  }

  // Direct path over groups of images: dx (may be null) overwritten (added to: ctx.add_input_grad),
  // dw (may be null) accumulated.
  void direct_backward(const Tensor& x, const Tensor& dout, Tensor* dx, float* dw, RunContext& ctx) {
    const int64_t N = x.dim(0), in_img = x.numel() / N, out_img = dout.numel() / N;
    float* ws = workspace_for(ctx, own_workspace_, direct_.backward_floats(num_threads()));
    direct_conv_backward_begin(direct_, weight_.value.data(), dx != nullptr, dw != nullptr, ws);
    const BnPackMap* x_map = ctx.input_map ? &ctx.input_map->map : nullptr;
    const bool dy_mapped = ctx.output_grad_map && ctx.output_grad_map->filled;
    if (direct_.packs_input_and_output_grad()) {
      // The packed BatchNorm before it gets the sums of dx from here (RunContext::plane_sums_out).
      // Session 24 (Zen 5, ResNet-20 b128 training, 5 alternating runs of `--layers`): that
      // BatchNorm's and this backward 5.04 -> 4.86 ms at 32x32, 3.97 -> 3.62 at 16x16, 3.76 -> 3.54
      // at 8x8.
      BnPlaneSums* sums = ctx.plane_sums_out && x_map && dx && !ctx.add_input_grad ? ctx.plane_sums_out : nullptr;
      if (sums) sums->sums.resize(size_t(2 * x.numel() / (int64_t(g_.H) * g_.W)));
      direct_conv_backward_pipelined(direct_, N, x.data(), dy_mapped ? ctx.output_grad_map->source : dout.data(),
                                     dx ? dx->data() : nullptr, dw != nullptr, ws, ctx.add_input_grad, x_map,
                                     dy_mapped ? &ctx.output_grad_map->map : nullptr, sums ? sums->sums.data() : nullptr);
      if (sums) sums->filled = true;
      if (dw) direct_conv_backward_finish(direct_, dw, ws);
      return;
    }
    for (int64_t n = 0; n < N; n += direct_.N) {
      const DirectConvPlan& p = N - n >= direct_.N ? direct_ : direct_tail_;
      BnPackMap dy_map;  // this group's images of the BatchNorm's input
      if (dy_mapped) dy_map = ctx.output_grad_map->map, dy_map.x += n * out_img;
      const float* dy = dy_mapped ? ctx.output_grad_map->source : dout.data();
      direct_conv_backward_group(p, x.data() + n * in_img, dy + n * out_img,
                                 dx ? dx->data() + n * in_img : nullptr, dw != nullptr, ws, ctx.add_input_grad,
                                 x_map, dy_mapped ? &dy_map : nullptr);
    }
    if (dw) direct_conv_backward_finish(direct_, dw, ws);
  }

  // The input gradient of a frozen layer (RunContext::param_grads false): no weight gradient.
  void backward_data(const Tensor& x, const Tensor& dout, Tensor& dx, RunContext& ctx) {
    const int64_t N = x.dim(0);
    if (algo_ == Algo::direct) {
      direct_backward(x, dout, &dx, nullptr, ctx);
    } else if (algo_ == Algo::depthwise) {
      depthwise_backward(x.data(), dout.data(), weight_.value.data(), g_, N, int(in_channels_),
                         int(o_.out / o_.groups), dx.data(), nullptr);
    } else {
      float* ws = gemm_workspace(ctx, true);
      accumulate_weight_grad_over_images(N, nullptr, [&](int64_t b, int64_t e, int tid, float*) {
        const GemmBuffers buf = gemm_buffers(ws, tid, true);
        for (int64_t n = b, nb; n < e; n += nb)
          backward_images(x, dout, &dx, nullptr, n, nb = batch_for(e - n), buf, ctx.add_input_grad);
      });
    }
  }

  // dx (when non-null) overwritten, or added to when add_dx.
  void backward_images(const Tensor& x, const Tensor& dout, Tensor* dx, float* dw, int64_t n0, int64_t nb,
                       const GemmBuffers& buf, bool add_dx) {
    const int64_t M = o_.out / o_.groups, K = g_.col_rows(), P = g_.col_cols(), L = nb * P;
    const int64_t in_img = x.numel() / x.dim(0), out_img = dout.numel() / dout.dim(0);
    const bool pw = g_.is_pointwise();
    for (int64_t gi = 0; gi < o_.groups; ++gi) {
      const float* dy = dout.data() + n0 * out_img + gi * M * P;
      if (nb > 1) {  // gather the images' output gradients side by side: M x nb*P
        float* dyb = buf.out;
        gather_side_by_side(dy, out_img, M, P, nb, dyb);
        dy = dyb;
      }
      if (dw) {
        const float* col = columns(x, n0, nb, gi, buf.col);
        sgemm(false, true, int(M), int(K), int(L), 1.f, dy, int(L), col, int(L), 1.f, dw + gi * M * K, int(K));
      }
      if (!dx) continue;
      const float* w = weight_.value.data() + gi * M * K;
      float* dx0 = dx->data() + n0 * in_img + gi * group_in();
      if (pw && nb == 1) {
        sgemm(true, false, int(K), int(P), int(M), 1.f, w, int(K), dy, int(P), add_dx ? 1.f : 0.f, dx0, int(P));
        continue;
      }
      float* dcol = buf.dcol;
      sgemm(true, false, int(K), int(L), int(M), 1.f, w, int(K), dy, int(L), 0.f, dcol, int(L));
      if (pw) {
        if (add_dx) scatter_add_side_by_side(dcol, K, P, nb, dx0, in_img);
        else scatter_side_by_side(dcol, K, P, nb, dx0, in_img);
        continue;
      }
      for (int64_t i = 0; i < nb; ++i) {
        float* dxi = dx0 + i * in_img;
        if (!add_dx) std::memset(dxi, 0, sizeof(float) * group_in());
        col2im(dcol + i * P, g_, dxi, L);
      }
    }
  }
  Param weight_, bias_;
};

}  // namespace

Conv2dOptions parse_conv2d(const LayerArgs& args) {
  Conv2dOptions o;
  o.out = args.get_int("out");
  o.k = args.get_ints("k", 2, {});
  if (o.k.empty()) args.fail("missing required argument 'k' for layer type '" + args.type() + "'");
  o.stride = args.get_ints("stride", 2, {1, 1});
  o.pad = args.get_ints("pad", 2, {0, 0});
  o.dilation = args.get_ints("dilation", 2, {1, 1});
  o.groups = args.get_int("groups", 1);
  o.bias = args.get_bool("bias", true);
  args.finish();
  if (o.out < 1) args.fail("out", "expects an integer >= 1");
  for (auto v : o.k) if (v < 1) args.fail("k", "expects kernel sizes >= 1");
  for (auto v : o.stride) if (v < 1) args.fail("stride", "expects strides >= 1");
  for (auto v : o.pad) if (v < 0) args.fail("pad", "expects padding >= 0");
  for (auto v : o.dilation) if (v < 1) args.fail("dilation", "expects dilation >= 1");
  if (o.groups < 1) args.fail("groups", "expects an integer >= 1");
  return o;
}

std::unique_ptr<Layer> make_conv2d(const LayerArgs& args) { return std::make_unique<Conv2d>(parse_conv2d(args), args); }

}  // namespace cnn
