// MaxPool2d, AvgPool2d and MaxUnpool2d (PyTorch semantics: stride defaults to the kernel size,
// ceil mode, count_include_pad), parallel over N*C planes.
#include "layers/layer_args.h"
#include "core/isa.h"
#include "core/parallel.h"
#include "kernels/blocked_depthwise.h"
#include "kernels/pool.h"
#include "layers/blocked_plane.h"
#include "layers/layer.h"
#include "layers/options.h"

namespace cnn {
namespace {

PoolOptions parse_window(const LayerArgs& args, bool avg, bool unpool) {
  PoolOptions o;
  // The model expander resolves `indices: <max pool>` and copies that pool's window here.
  if (unpool) (void)args.get_string("indices", "");
  o.k = args.get_ints("k", 2, {});
  if (o.k.empty()) args.fail("missing required argument 'k' for layer type '" + args.type() + "'");
  o.stride = args.get_ints("stride", 2, o.k);
  o.pad = args.get_ints("pad", 2, {0, 0});
  o.ceil = args.get_bool("ceil", false);
  if (avg) o.count_include_pad = args.get_bool("count_include_pad", true);
  args.finish();
  for (auto v : o.k) if (v < 1) args.fail("k", "expects kernel sizes >= 1");
  for (auto v : o.stride) if (v < 1) args.fail("stride", "expects strides >= 1");
  for (int i = 0; i < 2; ++i)
    if (o.pad[i] < 0 || 2 * o.pad[i] > o.k[i]) args.fail("pad", "expects padding between 0 and half the kernel size");
  return o;
}

}  // namespace

PoolOptions parse_pool2d(const LayerArgs& args, bool avg) { return parse_window(args, avg, false); }
PoolOptions parse_max_unpool2d(const LayerArgs& args) { return parse_window(args, false, true); }

namespace {

class Pool2d : public Layer {
 public:
  Pool2d(PoolOptions o, bool avg, const LayerArgs& args) : o_(std::move(o)), avg_(avg), args_(args) {}

  Shape infer(const std::vector<Shape>& in) override {
    const Shape& s = in[0];
    if (s.size() != 4) args_.fail(std::string(avg_ ? "avgpool" : "maxpool") + " expects an N x C x H x W input, got " + shape_str(s));
    g_.H = int(s[2]), g_.W = int(s[3]);
    g_.KH = int(o_.k[0]), g_.KW = int(o_.k[1]);
    g_.SH = int(o_.stride[0]), g_.SW = int(o_.stride[1]);
    g_.PH = int(o_.pad[0]), g_.PW = int(o_.pad[1]);
    g_.ceil_mode = o_.ceil;
    g_.count_include_pad = o_.count_include_pad;
    g_.finish();
    if (g_.OH <= 0 || g_.OW <= 0) args_.fail("input " + shape_str({s[1], s[2], s[3]}) + " is smaller than the pooling window");
    outputs_ = s[0] * s[1] * g_.OH * g_.OW;
    channels_ = int(s[1]);
    plane_ = {};
    const BlockedConvKernel& k = blocked_conv_kernel(active_isa(), channels_);
    if (!avg_ && k.isa != Isa::generic) plane_ = plan_blocked_maxpool(g_, channels_, k);
    if (plane_.g.OH != g_.OH || plane_.g.OW != g_.OW) plane_ = {};
    return {s[0], s[1], g_.OH, g_.OW};
  }
  // Blocked handoffs (Layer): a max pool reads its input from its padded plane (border -inf) and
  // writes into the plane of the convolution that reads it, in eval forwards.
  const BlockedConvPlan* blocked_input_plane() const override { return plane_.kernel && !relu_ ? &plane_ : nullptr; }
  void read_blocked_input(bool on) override { x_blocked_ = on; }
  bool write_blocked_output(const BlockedConvPlan* plane) override {
    handoff_.set(nullptr);
    handoff_target_ = {};
    if (!plane || !plane_.kernel || relu_ || !plane_holds(*plane, plane_.L, channels_, g_.OH, g_.OW)) return false;
    handoff_.set(plane);
    handoff_target_.plane = &handoff_.plane;
    handoff_target_.pix = handoff_.pix.data();
    return true;
  }
  size_t workspace_floats(bool train) const override {
    return !train && blocked_on() ? size_t(num_threads() * blocked_depthwise_scratch_floats(plane_)) : 0;
  }
  // The ReLU before a max pool (Layer::fuse_relu_before): max(relu(x)) = relu(max(x)), the same
  // bits; the argmax of a window whose maximum is <= 0 may differ, but no gradient passes there.
  bool fuse_relu_before(bool on) override { return relu_ = on && !avg_; }
  // Argmax indices (int32), kept by training forwards only.
  size_t state_floats(bool train) const override { return avg_ || !train ? 0 : size_t(outputs_); }

  // An eval forward of a max pool writes the values only (no argmax: nothing to save for a
  // backward); a backward after it (cnn explain's Grad-CAM) finds the indices again first.
  void forward(const std::vector<const Tensor*>& in, Tensor& out, RunContext& ctx) override {
    const Tensor& x = *in[0];
    if (!ctx.train && blocked_on()) {
      BlockedDepthwiseIo io;
      io.x = x.data(), io.x_blocked = x_blocked_;
      io.y = out.data(), io.target = handoff_.on() ? &handoff_target_ : nullptr;
      io.scratch = workspace_for(ctx, own_workspace_, workspace_floats(false));
      blocked_maxpool_run(plane_, x.dim(0), io);
      have_argmax_ = false;
      return;
    }
    const int64_t planes = x.dim(0) * x.dim(1), ip = int64_t(g_.H) * g_.W, op = int64_t(g_.OH) * g_.OW;
    have_argmax_ = !avg_ && ctx.train;
    if (have_argmax_) argmax_.resize(size_t(planes * op));
    parallel_for_balanced(planes, [&](int64_t b, int64_t e, int) {
      for (int64_t p = b; p < e; ++p) {
        if (avg_)
          avgpool2d_forward(x.data() + p * ip, g_, out.data() + p * op);
        else
          maxpool2d_forward(x.data() + p * ip, g_, out.data() + p * op,
                            have_argmax_ ? argmax_.data() + p * op : nullptr);
        if (relu_) relu_plane(x.data() + p * ip, out.data() + p * op, have_argmax_ ? argmax_.data() + p * op : nullptr);
      }
    });
  }

  void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                const std::vector<Tensor*>& din, RunContext&) override {
    if (!din[0]) return;
    const Tensor& x = *in[0];
    const int64_t planes = x.dim(0) * x.dim(1), ip = int64_t(g_.H) * g_.W, op = int64_t(g_.OH) * g_.OW;
    if (!avg_ && !have_argmax_) find_argmax(x);
    parallel_for_balanced(planes, [&](int64_t b, int64_t e, int) {
      for (int64_t p = b; p < e; ++p) {
        if (avg_)
          avgpool2d_backward(dout.data() + p * op, g_, din[0]->data() + p * ip);
        else if (relu_)
          maxpool2d_backward_relu(dout.data() + p * op, out.data() + p * op, argmax_.data() + p * op, g_,
                                  din[0]->data() + p * ip);
        else
          maxpool2d_backward(dout.data() + p * op, argmax_.data() + p * op, g_, din[0]->data() + p * ip);
      }
    });
  }

 private:
  // The taken ReLU on one plane's maxima y (argmax: its indices, or null). A NaN maximum (a NaN
  // wins the max pool) is where relu(max) and max(relu) differ: such a plane is pooled again from
  // its input through the ReLU (rare: no allocation otherwise).
  void relu_plane(const float* x, float* y, int32_t* argmax) const {
    const int64_t op = int64_t(g_.OH) * g_.OW;
    int nan = 0;  // summed without a branch: the loop vectorizes
    for (int64_t i = 0; i < op; ++i) {
      const float v = y[i];
      nan |= v != v;
      y[i] = v > 0.f ? v : 0.f;
    }
    if (!nan) return;
    std::vector<float> relu_x(x, x + int64_t(g_.H) * g_.W);
    for (float& v : relu_x) v = v > 0.f ? v : 0.f;
    maxpool2d_forward(relu_x.data(), g_, y, argmax);
  }

  // The argmax of input x, as a training forward saves it (the values go to a scratch copy).
  void find_argmax(const Tensor& x) {
    const int64_t planes = x.dim(0) * x.dim(1), ip = int64_t(g_.H) * g_.W, op = int64_t(g_.OH) * g_.OW;
    argmax_.resize(size_t(planes * op));
    std::vector<float> values(size_t(planes * op));
    parallel_for(planes, [&](int64_t b, int64_t e, int) {
      for (int64_t p = b; p < e; ++p)
        maxpool2d_forward(x.data() + p * ip, g_, values.data() + p * op, argmax_.data() + p * op);
    });
    have_argmax_ = true;
  }

  // The blocked path runs: its input or its output is handed over blocked (else the NCHW kernels
  // need no packing). Measured (session 19, Zen 5, ResNet-50 inference at batch 32, ms per
  // layer): the NCHW max pool after the stem 9.0, ONNX Runtime's blocked one 5.0.
  bool blocked_on() const { return plane_.kernel && (x_blocked_ || handoff_.on()); }

  PoolOptions o_;
  bool avg_;
  LayerArgs args_;
  PoolGeom g_;
  std::vector<int32_t> argmax_;
  bool have_argmax_ = false;  // argmax_ belongs to the last forward's input
  bool relu_ = false;         // fuse_relu_before: the ReLU before it is taken
  int64_t outputs_ = 0;       // at the planned batch
  int channels_ = 0;
  BlockedConvPlan plane_;  // max pooling with a SIMD blocked kernel: its input plane; kernel null: none
  bool x_blocked_ = false;            // read_blocked_input
  PlanePixels handoff_;               // write_blocked_output: the reader's plane
  BlockedOutputTarget handoff_target_;
  Tensor own_workspace_;
};

// Inputs: x (N x C x OH x OW, the pooled values or anything of that shape) and the max pool's
// input P (N x C x H x W). Output: N x C x H x W, zero except that x's entries go where
// maxpool(P) found its maxima. The argmax is recomputed from P with the pool's own window and the
// same kernel, so the indices are exactly those of the max pool node (`indices:` in the config).
// P gets a zero gradient: the indices are piecewise constant in P.
class MaxUnpool2d : public Layer {
 public:
  MaxUnpool2d(PoolOptions o, const LayerArgs& args) : o_(std::move(o)), args_(args) {}

  Shape infer(const std::vector<Shape>& in) override {
    if (in.size() != 2)
      args_.fail("max_unpool expects 2 inputs (the values and the max pool's input), got " + std::to_string(in.size()));
    const Shape& s = in[1];
    if (s.size() != 4) args_.fail("max_unpool expects an N x C x H x W pool input, got " + shape_str(s));
    g_.H = int(s[2]), g_.W = int(s[3]);
    g_.KH = int(o_.k[0]), g_.KW = int(o_.k[1]);
    g_.SH = int(o_.stride[0]), g_.SW = int(o_.stride[1]);
    g_.PH = int(o_.pad[0]), g_.PW = int(o_.pad[1]);
    g_.ceil_mode = o_.ceil;
    g_.finish();
    if (g_.OH <= 0 || g_.OW <= 0) args_.fail("pool input " + shape_str({s[1], s[2], s[3]}) + " is smaller than the pooling window");
    const Shape want = {s[0], s[1], g_.OH, g_.OW};
    if (in[0] != want)
      args_.fail("max_unpool input " + shape_str(Shape(in[0].begin() + 1, in[0].end())) + " does not match the max pool's output " +
                 shape_str(Shape(want.begin() + 1, want.end())));
    return s;
  }

  void forward(const std::vector<const Tensor*>& in, Tensor& out, RunContext&) override {
    const Tensor& x = *in[0];
    const Tensor& p = *in[1];
    const int64_t planes = x.dim(0) * x.dim(1), ip = int64_t(g_.H) * g_.W, op = int64_t(g_.OH) * g_.OW;
    argmax_.resize(size_t(planes * op));
    pooled_.resize(size_t(planes * op));
    parallel_for(planes, [&](int64_t b, int64_t e, int) {
      for (int64_t q = b; q < e; ++q) {
        maxpool2d_forward(p.data() + q * ip, g_, pooled_.data() + q * op, argmax_.data() + q * op);
        maxunpool2d_forward(x.data() + q * op, argmax_.data() + q * op, g_, out.data() + q * ip);
      }
    });
  }

  void backward(const std::vector<const Tensor*>& in, const Tensor&, const Tensor& dout,
                const std::vector<Tensor*>& din, RunContext&) override {
    if (din[1]) din[1]->zero();
    if (!din[0]) return;
    const Tensor& x = *in[0];
    const int64_t planes = x.dim(0) * x.dim(1), ip = int64_t(g_.H) * g_.W, op = int64_t(g_.OH) * g_.OW;
    parallel_for(planes, [&](int64_t b, int64_t e, int) {
      for (int64_t q = b; q < e; ++q)
        maxunpool2d_backward(dout.data() + q * ip, argmax_.data() + q * op, g_, din[0]->data() + q * op);
    });
  }

 private:
  PoolOptions o_;
  LayerArgs args_;
  PoolGeom g_;
  std::vector<int32_t> argmax_;
  std::vector<float> pooled_;
};

}  // namespace

std::unique_ptr<Layer> make_max_unpool2d(const LayerArgs& args) {
  return std::make_unique<MaxUnpool2d>(parse_max_unpool2d(args), args);
}
std::unique_ptr<Layer> make_maxpool2d(const LayerArgs& args) {
  return std::make_unique<Pool2d>(parse_pool2d(args, false), false, args);
}
std::unique_ptr<Layer> make_avgpool2d(const LayerArgs& args) {
  return std::make_unique<Pool2d>(parse_pool2d(args, true), true, args);
}

}  // namespace cnn
