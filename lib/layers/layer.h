#pragma once
// The layer interface. A layer owns its parameters and whatever it saves for backward; the Net
// owns activations and their gradients. Shapes here are per batch (N first).
//
// Contract:
// - infer(): given input shapes (batch dim included), returns the output shape or throws
//   ConfigError via args.fail(). Called when the net is built and whenever the batch size changes.
// - forward(): writes `out` (already sized by the Net). `train` selects training behaviour.
// - backward(): given dout, writes (overwrites, never accumulates) the gradient of each input into
//   din[i] when din[i] is non-null, and accumulates (+=) parameter gradients into Param::grad.
//   The inputs and output of the forward pass are still valid. With ctx.param_grads false (a frozen
//   layer between trainable ones) it computes only din and leaves Param::grad untouched.
// - Layers allocate their saved state on the first call for a shape and reuse it after.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "kernels/channel_stats.h"

namespace cnn {

class Rng;
struct BlockedConvPlan;  // kernels/blocked_conv.h

struct Param {
  std::string name;       // local name: "weight", "bias"
  Tensor value;
  Tensor grad;
  bool decay = true;      // weight decay applies (BN and bias parameters can opt out)
  std::string init_kind;  // "conv" / "linear" / "bias" / "bn_weight" / "bn_bias": init schemes pick by it
  int64_t fan_in = 0, fan_out = 0;
};

struct Buffer {            // non-trainable state saved in checkpoints (BN running stats)
  std::string name;
  Tensor value;
};

// Sums values over every process of a data-parallel run, in place; every process gets the same
// sums back (lib/dist). BatchNorm uses it for train.sync_bn.
class CrossProcessSum {
 public:
  virtual ~CrossProcessSum() = default;
  virtual void sum(double* values, size_t n) = 0;
};

// Per-channel sums of a tensor over N x H x W, in double: sum[c] and sum of squares sum_sq[c].
struct ChannelSums {
  std::vector<double> sum, sum_sq;
};

// A BatchNorm's elementwise pass as a map for the convolution next to it (RunContext).
struct BnPackSlot {
  bool filled = false;
  BnPackMap map;
  const float* source = nullptr;  // input_grad: what to pack instead of dout (the BatchNorm's dout)
};

// A packed BatchNorm's backward sums per plane of its output gradient (plane p: image p / C,
// channel p % C): the sum of dy and of dy * (x - mean), dy through the fused ReLU's mask, at 2p and
// 2p + 1, as the BatchNorm's own pass computes them (bn_plane_grad_sums). Filled by the
// BatchNorm's packing reader while it writes that gradient (RunContext::plane_sums_out).
struct BnPlaneSums {
  bool filled = false;
  std::vector<float> sums;
};

struct RunContext {
  bool train = true;
  Rng* rng = nullptr;      // for dropout and friends; advanced deterministically
  Tensor* workspace = nullptr;  // the Net's scratch, shared by all layers (see workspace_for)
  // train.sync_bn: BatchNorm in training mode normalizes with the statistics of all processes'
  // batches together (forward sums and backward sums go through it). Null: this batch alone.
  CrossProcessSum* batch_stats_sum = nullptr;
  bool param_grads = true;      // backward: accumulate parameter gradients (false: input gradients only)
  // backward: add the input gradient to din[0] instead of overwriting it. The Net sets it for a
  // layer whose can_add_input_grad() is true when another reader has written that gradient.
  bool add_input_grad = false;
  // Training forwards, planned by the Net: a layer that writes channel sums (writes_channel_sums)
  // fills channel_sums_out with its output's, computed while writing it, and the BatchNorm that
  // is its only reader gets them as channel_sums_in instead of reading its input once more.
  ChannelSums* channel_sums_out = nullptr;
  const ChannelSums* channel_sums_in = nullptr;
  // Training, planned by the Net (packed BatchNorms): a BatchNorm's elementwise pass runs inside
  // the packing of the blocked convolution next to it. Forward: a BatchNorm given bn_output_map
  // fills it (normalize) and leaves its output unwritten; the convolution (or add) that is its
  // output's only reader gets it as input_map, with the BatchNorm's input in its place, in forward
  // and backward.
  // Backward: a BatchNorm given bn_grad_map either fills it (input_grad) and leaves din[0]
  // unwritten, or writes din[0]; the convolution that wrote its input gets it as output_grad_map
  // and packs its output gradient through it when filled.
  BnPackSlot* bn_output_map = nullptr;
  const BnPackSlot* input_map = nullptr;
  int input_map_at = 0;  // the input input_map applies to (a layer that reads_input_through_map)
  BnPackSlot* bn_grad_map = nullptr;
  const BnPackSlot* output_grad_map = nullptr;
  // Backward, packed BatchNorms: the reader given input_map may fill plane_sums_out with the
  // BatchNorm's sums of the input gradient it writes there (while its planes are in cache); the
  // BatchNorm gets it as plane_sums_in and, when filled, skips its own pass over dy and x.
  BnPlaneSums* plane_sums_out = nullptr;
  const BnPlaneSums* plane_sums_in = nullptr;
};

// Scratch of at least `floats` floats for the running layer: the Net's shared workspace, or
// `own` when the layer runs outside a Net. Contents are unspecified; grows only.
float* workspace_for(RunContext& ctx, Tensor& own, size_t floats);

// Inference fusion (Net::InferenceScope; eval forwards only). A layer that runs before others
// may take them into its own output pass: an eval-mode BatchNorm folded into its weights and
// bias, then a residual add (the residual arrives as an extra last input of forward), then a
// clamp (ReLU: [0, inf), ReLU6: [0, 6]). The Net asks the layers that follow what they are
// (fusion_info) and offers the chain to the first (fuse_for_inference).
struct BatchNormFold {
  const Tensor* gamma = nullptr;  // null: no affine parameters (gamma 1, beta 0)
  const Tensor* beta = nullptr;
  const Tensor* mean = nullptr;
  const Tensor* var = nullptr;
  double eps = 0;
};
struct FusionInfo {
  enum class Kind { none, batchnorm, add, clamp, identity };
  Kind kind = Kind::none;
  BatchNormFold bn;       // batchnorm: its running statistics and parameters
  float lo = 0, hi = 0;   // clamp
};
struct InferenceFusion {
  std::optional<BatchNormFold> bn;
  bool residual = false;
  bool clamp = false;
  float lo = 0, hi = 0;
};

class Layer {
 public:
  virtual ~Layer() = default;
  virtual Shape infer(const std::vector<Shape>& in) = 0;
  virtual void forward(const std::vector<const Tensor*>& in, Tensor& out, RunContext& ctx) = 0;
  virtual void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                        const std::vector<Tensor*>& din, RunContext& ctx) = 0;
  virtual std::vector<Param*> params() { return {}; }
  virtual std::vector<Buffer*> buffers() { return {}; }
  // Multiply-adds of one forward pass for the given input shapes (conv and linear only; others 0).
  virtual int64_t macs(const std::vector<Shape>& /*in*/, const Shape& /*out*/) const { return 0; }
  // Default initialization (PyTorch's defaults for the layer kind).
  virtual void init(Rng& /*rng*/) {}
  // The algorithm chosen when the layer was planned (infer), for `cnn bench --layers`: e.g.
  // "direct avx512", "im2col+gemm". Empty for layers with one way of running.
  virtual std::string kernel() const { return ""; }
  // Workspace (floats) the layer asks of workspace_for() at the planned shapes, so the Net can
  // size its shared scratch before the first step.
  virtual size_t workspace_floats(bool /*train*/) const { return 0; }
  // Floats the layer keeps inside at the planned shapes (saved masks and indices, inner
  // activations), for the Net's memory plan.
  virtual size_t state_floats(bool /*train*/) const { return 0; }
  // Floats of weights the layer keeps in another form (folded and packed for inference), counted
  // with the parameters in the Net's memory plan: they do not grow with the batch.
  virtual size_t derived_weight_floats(bool /*train*/) const { return 0; }
  // ReLU fusion, planned by the Net: a plain ReLU layer is one whose fusion_info is a clamp to
  // [0, inf) (is_relu); a layer whose output only feeds such a ReLU may take it into its own
  // passes (fuse_relu(true) returns true). It then writes relu(output) in forward, and its
  // backward receives the ReLU's output and output gradient (the mask is output > 0), with results
  // bit-identical to the two layers run apart. fuse_relu(false) restores the plain behaviour.
  bool is_relu() const;
  virtual bool fuse_relu(bool /*on*/) { return false; }
  // The same from the other side, planned when the ReLU's source does not take it: a layer whose
  // one input is a ReLU's output, that ReLU's only reader, may take the ReLU (fuse_relu_before(true)
  // returns true). In training it then reads the ReLU's input (the ReLU passes it through) and
  // gives the bits of the two run in order; its backward writes the gradient of the ReLU's input.
  // In eval forwards the ReLU runs, and the layer's own is idempotent. fuse_relu_before(false)
  // restores the plain behaviour.
  virtual bool fuse_relu_before(bool /*on*/) { return false; }
  // Inference fusion (see InferenceFusion): what this layer is to the layer before it, and
  // whether it takes the chain `f` (null: back to the plain layer). A layer that takes it keeps
  // what it needs (folded weights) until fuse_for_inference(nullptr); its eval forwards apply it.
  virtual FusionInfo fusion_info() const { return {}; }
  // What backward reads besides dout (conservatively true): the Net lets a later layer write
  // over a tensor in training only when nothing reads it again (an add in place of its input).
  virtual bool backward_reads_output() const { return true; }
  virtual bool backward_reads_inputs() const { return true; }
  // Whether forward copies its one input unchanged and backward copies the gradient back, in
  // training too, with the input's shape (an identity shortcut): the Net then lets the output be
  // the input's storage and the gradient the input's (Net::fuse_identities) and runs neither pass.
  virtual bool passes_input_through() const { return false; }
  // Whether backward honours RunContext::add_input_grad (one-input layers) at the planned shapes.
  virtual bool can_add_input_grad() const { return false; }
  // Whether forward fills RunContext::channel_sums_out when it is set (see RunContext).
  virtual bool writes_channel_sums() const { return false; }
  // Packed BatchNorms (see RunContext), at the planned shapes: a BatchNorm that can hand its
  // passes over (packs_into_convolutions); a layer whose training forward and backward read
  // its one input only through packing that can apply a map (packs_input), and whose backward
  // reads its output gradient only so (packs_output_grad).
  virtual bool packs_into_convolutions() const { return false; }
  virtual bool packs_input() const { return false; }
  // Forward only: a layer whose training forward can read any one of its inputs through the map
  // (RunContext::input_map_at) and whose backward reads none (an add).
  virtual bool reads_input_through_map() const { return false; }
  virtual bool packs_output_grad() const { return false; }
  virtual bool fuse_for_inference(const InferenceFusion* /*f*/) { return false; }
  // Blocked handoffs (eval forwards fused for inference, planned by the Net after every layer's
  // plan): a layer that packs its one input into a channel-blocked padded plane names that
  // plane's layout (blocked_input_plane; null: none). The layer writing that input, when nothing
  // else reads it, may write its eval outputs there directly (write_blocked_output returns true;
  // null: plain outputs again), and the reader then takes the plane as it is (read_blocked_input).
  // The tensor between them holds N planes (plane->x_image floats each), not its shape's NCHW.
  virtual const BlockedConvPlan* blocked_input_plane() const { return nullptr; }
  virtual bool write_blocked_output(const BlockedConvPlan* /*plane*/) { return false; }
  virtual void read_blocked_input(bool /*on*/) {}
  // A layer without a plane of its own (blocked_input_plane null) that can read its first input
  // from whichever plane that input's convolution readers take (reads_any_blocked_input) is given
  // that plane (read_blocked_input_plane returns true when it takes it; null: NCHW again).
  virtual bool reads_any_blocked_input() const { return false; }
  virtual bool read_blocked_input_plane(const BlockedConvPlan* /*plane*/) { return false; }
  // The same for the residual an inference chain adds (InferenceFusion::residual): read from
  // N such planes when the layer can (returns true; null: NCHW again).
  virtual bool read_blocked_residual(const BlockedConvPlan* /*plane*/) { return false; }
  // The unpadded plane of the layer's own output as a reader would take it (null: none), for a
  // tensor that no convolution reads but chains add as a residual.
  virtual const BlockedConvPlan* blocked_output_plane() const { return nullptr; }
};

}  // namespace cnn
