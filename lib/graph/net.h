#pragma once
// Net: the DAG of layers built from a ModelSpec. Activations and gradients are planned once per
// batch size and reused; forward/backward walk the nodes in topological order.
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "config/model_spec.h"
#include "layers/layer.h"

namespace cnn {

struct LiveRange;  // graph/liveness.h

struct NamedParam {
  std::string name;  // "<node>.<param>", e.g. "conv1.weight"
  Param* param;
};
struct NamedBuffer {
  std::string name;
  Buffer* buffer;
};

struct LayerSummary {
  std::string name, type;
  Shape output;            // per sample (no batch dim)
  int64_t params = 0;      // trainable
  int64_t buffers = 0;     // non-trainable state
  int64_t macs = 0;        // per sample
  std::string kernel;      // the algorithm the layer planned ("direct avx512", "im2col+gemm"), or ""
  bool head = false;       // only feeds a side head (dropped at eval and export)
};

class Net {
 public:
  // Builds every layer and checks every shape at batch 1; throws ConfigError naming the layer.
  explicit Net(const ModelSpec& spec);
  Net(const Net&) = delete;
  Net& operator=(const Net&) = delete;

  // input: N x <spec.input>. Returns the output node's activation (valid until the next call).
  // In eval mode (ctx.train false) the nodes that only feed side heads are skipped.
  const Tensor& forward(const Tensor& input, RunContext& ctx);

  // Side heads (auxiliary classifiers): their outputs after a training forward, and the
  // gradients of the loss with respect to them, to fill before backward().
  const std::vector<HeadSpec>& heads() const { return spec_.heads; }
  const Tensor& head_output(size_t i) const { return nodes_[size_t(spec_.heads[i].node)].out; }
  Tensor& head_grad(size_t i) { return grad_of(spec_.heads[i].node); }
  // Gradient of the loss with respect to the output (sized by forward); fill it, then backward().
  Tensor& output_grad() { return grad_of(static_cast<int>(nodes_.size()) - 1); }
  const Tensor& output() const { return stored_output(static_cast<int>(nodes_.size()) - 1); }
  // Accumulates parameter gradients (call zero_grad() first). Needs the preceding forward's state.
  void backward(RunContext& ctx);
  void zero_grad();
  // Called in backward() after each node's backward step with `first`: the gradients of params()[i]
  // for every i >= first are then final (nodes run in reverse order and own their parameters;
  // frozen ones are zeroed at the end).
  // Data-parallel training starts reducing them while the rest of the backward pass runs.
  void set_gradients_ready(std::function<void(size_t first)> observer) { gradients_ready_ = std::move(observer); }
  // Initializes every parameter and buffer: PyTorch's defaults for each layer (from an Rng seeded
  // with `seed`, in node order), then the model's `init:` schemes (ModelSpec::init; each
  // parameter they touch draws from its own stream keyed by (seed, parameter name)). The
  // constructor applies only the defaults, with seed 0. LSUV needs data: see lsuv().
  void init(uint64_t seed);
  // LSUV (Mishkin & Matas 2015), after init(): for each conv/linear node in order, run the
  // net on `input` in eval mode (BN uses its running stats, dropout is off; nothing is updated)
  // and scale the node's weight by 1/sqrt(Var(output)) until |Var - 1| < tol, at most `iters`
  // times. Returns one record per layer.
  struct LsuvLayer {
    std::string name;
    double variance = 0;  // of the output after the last scaling
    int64_t scalings = 0;
  };
  std::vector<LsuvLayer> lsuv(const Tensor& input, double tol, int64_t iters);

  // Fine-tuning: `frozen[i]` freezes params()[i] (its gradient stays zero); backward skips the
  // nodes with nothing trainable at or before them, and runs a node whose parameters are all
  // frozen with RunContext::param_grads false (no weight-gradient work, only its input gradient). `eval_nodes` run in eval mode even when
  // training (frozen BatchNorm: running statistics, no updates).
  void set_frozen(const std::vector<char>& frozen, const std::set<std::string>& eval_nodes = {});
  bool is_frozen(size_t param_index) const;
  // Looking inside (cnn explain): nodes are numbered in order, as summary() lists them.
  // activation(i): node i's output after the last forward(). backward_to(i): after a forward and
  // with output_grad() filled, runs backward only over the nodes after i and returns the gradient
  // of that output with respect to node i's activation (parameter gradients of those nodes
  // accumulate as in backward()). Throws RuntimeError when no gradient can reach node i (nothing
  // trainable at or before it).
  int node_index(const std::string& name) const;  // -1 if there is no such node
  const Tensor& activation(int node) const {
    check_kept(node, Kept::output);
    return stored_output(node);
  }
  const Tensor& backward_to(int node, RunContext& ctx);

  const std::vector<NamedParam>& params() const { return params_; }
  const std::vector<NamedBuffer>& buffers() const { return buffers_; }
  int64_t num_params() const;
  std::vector<LayerSummary> summary() const;  // at the spec's input shape
  const ModelSpec& spec() const { return spec_; }
  Shape output_shape() const;                 // per sample

  // Memory (planned once per batch size). By default a BatchNorm or add whose output only feeds a
  // ReLU applies it in its own passes (Layer::fuse_relu) and keeps no output of its own, a training
  // add writes over an input that nothing reads again (a BatchNorm's output); an eval
  // forward shares activation buffers between nodes whose outputs are not live at the same time
  // (an output lives until its last reader has run), and training shares gradient buffers the
  // same way (graph/liveness.h): activation() after an eval forward, backward after an eval
  // forward, and activation()/backward_to() of a fused node throw. set_inspectable(true) keeps
  // every node's output and gradient (cnn explain, report). Results are bit-identical either way.
  void set_inspectable(bool on);
  bool fused(int node) const { return nodes_[size_t(node)].into >= 0; }
  // Packed BatchNorms (training, at the planned batch; graph/packed_batchnorm.cpp): the node of
  // the convolution that applies BatchNorm `bn`'s forward pass while packing its input, and of the
  // one that applies its input gradient while packing its output gradient (-1: none).
  struct BatchNormPacking {
    int forward = -1, backward = -1;
  };
  BatchNormPacking batchnorm_packing(int bn) const;
  // Whether nodes a and b have their training gradients in one buffer at the planned batch (an add
  // writing both, or buffers reused one after the other).
  bool same_gradient_buffer(int a, int b) const;
  // Inference fusion (graph/inference_fusion.cpp), for eval forwards with weights that stay fixed:
  // every BatchNorm after a convolution is folded into its weights and bias, and the convolution's
  // output pass also applies a residual add and a ReLU/ReLU6 that follow it (Layer::
  // fuse_for_inference); direct convolutions keep their weights packed. Results equal the unfused
  // path within float rounding. The folding uses the weights of the moment: a training forward
  // ends it (and so does set_inspectable(true)); after changing weights otherwise, fuse again.
  // InferenceScope does both ends.
  void fuse_for_inference(bool on);
  bool fused_for_inference() const { return inference_fused_; }
  // Tensors an eval forward fused for inference hands from one convolution to the next in the
  // channel-blocked layout (Layer::write_blocked_output), at the planned batch. Bit-identical
  // results without them; set_blocked_handoffs(false) turns them off (a test seam).
  int blocked_handoffs() const;
  void set_blocked_handoffs(bool on);
  class InferenceScope {
   public:
    explicit InferenceScope(Net& net) : net_(net) { net_.fuse_for_inference(true); }
    ~InferenceScope() { net_.fuse_for_inference(false); }
    InferenceScope(const InferenceScope&) = delete;
    InferenceScope& operator=(const InferenceScope&) = delete;

   private:
    Net& net_;
  };
  // What the plan at `batch` holds for a training step (forward outputs kept for backward, shared
  // gradient buffers) or an eval forward (shared activation buffers), in bytes. The process adds
  // its runtime, the input batch and, in training, the optimizer's state.
  struct PlannedMemory {
    int64_t params = 0;       // values, buffers (BN running statistics), in training gradients
                              // (an inference process never writes them: no memory, core/tensor.cpp),
                              // in inference the weights folded and packed (Layer::derived_weight_floats)
    int64_t activations = 0;  // outputs and gradients between layers, and what layers keep inside
    int64_t workspace = 0;    // the layers' shared scratch
    int64_t total() const { return params + activations + workspace; }
  };
  PlannedMemory planned_memory(int64_t batch, bool train);
  // An eval forward's plan as the inference paths run it: fused for inference (InferenceScope).
  PlannedMemory planned_inference_memory(int64_t batch);

  // Names the first node (in order) whose activation holds a NaN or Inf, or "" if none.
  std::string first_nonfinite_activation() const;
  std::string first_nonfinite_gradient() const;

  // Per-node wall time of forward and backward, accumulated while profiling is on (cnn bench).
  struct NodeTime {
    double forward_s = 0, backward_s = 0;
  };
  void set_profiling(bool on);
  const std::vector<NodeTime>& node_times() const { return times_; }

 private:
  struct Node {
    std::string name, type;
    std::unique_ptr<Layer> layer;
    std::vector<int> inputs;
    Shape shape;               // with batch
    Tensor out;                // training forward's output (kept for backward)
    int eval_slot = -1;        // eval forward's output: eval_slots_[eval_slot]
    int grad_slot = -1;        // gradient: grad_slots_[grad_slot]
    std::vector<int> extra_slot;  // per input: grad slot for a gradient to be summed into the input's
    bool adds_input_grad = false;  // its one input's gradient is written before: backward adds to it
    bool needs_grad = false;   // some trainable parameter at or before this node
    bool eval_in_train = false;  // runs in eval mode during training (set_frozen)
    bool params_frozen = false;  // has parameters, all frozen: backward computes input gradients only
    int into = -1;             // fused: writes the output of node `into` (a ReLU's, or an inference chain's last)
    bool absorbed = false;     // fused into an earlier node: never run
    int written_by = -1;       // absorbed and the end of a fusion: the node that writes this output
    static constexpr int kNoResidual = -2;
    int residual = kNoResidual;  // inference chain with an add: the node (-1: the net input) passed as last input
    bool inference_head = false;  // took an inference chain (Layer::fuse_for_inference)
    int sums_out = -1, sums_in = -1;  // training: channel_sums_ slot written / read (RunContext)
    int64_t blocked_floats = 0;  // eval: the output is its reader's blocked input planes (plan_blocked_handoffs)
    int in_place_of = -1;      // training: the output lives in that node's `out` (an add over its input)
    bool overwritten = false;  // training: a later node writes over this output (fuse_in_place)
    int alias_of = -1;         // training: passes its input through; its output is that node's storage
    bool relu_before = false;  // took the ReLU that is its input (Layer::fuse_relu_before), which aliases its own
    bool grad_alias = false;   // training, alias_of: its gradient is its input's (plan_buffers)
    int grad_shares = -1;      // training: its gradient is that node's, written once by an add (plan_buffers)
    // Training, packed BatchNorms (plan_packed_batchnorms; RunContext): bn_slots_ indices.
    int packs_output = -1;        // a BatchNorm whose output's reader packs it (fills the slot in forward)
    int packed_input = -1;        // that reader, which reads packed_source's output (-1: the net's input)
    int packed_source = -1;
    int packed_at = 0;            // the input of packed_input's reader that packed_source replaces
    int packs_grad = -1;          // a BatchNorm whose input's writer packs its input gradient (backward)
    int packed_output_grad = -1;  // that writer
    bool unstored = false;        // training: no tensor (its reader packs it from the BatchNorm's input)
  };
  void plan(int64_t batch);
  void init_defaults(uint64_t seed);
  void apply_init_spec(uint64_t seed);
  const Shape& shape_of(int index) const;
  void backward_from(int stop, bool heads, RunContext& ctx);  // nodes after `stop` (-1: all)
  void set_fusion(bool on);
  void clear_fusion();
  void fuse_relus();                        // training fusion: BN / add take the ReLU after them
  void fuse_in_place();                     // training: an add writes over an input nothing reads again
  void fuse_identities();                   // training: identity shortcuts run as their input
  // Training: the tensor holding node i's output (its own, the one it was written over, or its
  // input's when it passes the input through).
  Tensor& storage(int i) {
    Node& n = nodes_[size_t(i)];
    if (n.alias_of >= 0) return storage(n.alias_of);
    return n.in_place_of >= 0 ? nodes_[size_t(n.in_place_of)].out : n.out;
  }
  bool owns_storage(const Node& n) const {
    return n.into < 0 && n.in_place_of < 0 && n.alias_of < 0 && !n.unstored;
  }
  const Tensor& storage(int i) const { return const_cast<Net*>(this)->storage(i); }
  void fuse_inference_chains();             // graph/inference_fusion.cpp
  void plan_blocked_handoffs(int64_t batch);  // graph/inference_fusion.cpp, after the layers' plans
  std::vector<int> reader_counts() const;   // per node: layers reading it, plus side-head losses
  std::vector<int> last_readers() const;   // per node: the last node reading it (-1: none)
  void plan_channel_sums();                 // which BatchNorm takes its statistics from its input's writer
  void plan_packed_batchnorms();            // graph/packed_batchnorm.cpp, after the layers' plans
  // A convolution reading a packed BatchNorm's output: in[0] becomes the BatchNorm's input, and
  // the map to apply is returned (null: none).
  const BnPackSlot* packed_input(const Node& n, std::vector<const Tensor*>& in);
  // The input of node b's output's only reader that can pack b (a BatchNorm) forward, or -1
  // (given reader_counts() and each node's last reader).
  int packing_reader_input(int b, const std::vector<int>& readers, const std::vector<int>& reader) const;
  void plan_buffers();                      // liveness plans of eval outputs and gradients
  void share_add_gradients(std::vector<LiveRange>& grads, const std::vector<int>& first_writer,
                           const std::vector<char>& head);  // plan_buffers: Node::grad_shares
  void prepare(bool train);                 // allocates what the mode needs at the planned batch
  // Where node i's output goes: its fused ReLU's, in the mode's storage.
  Tensor& output_of(int i, bool train);
  const Tensor& stored_output(int i) const;  // the last forward's storage
  Tensor& grad_of(int i) { return grad_slots_[size_t(nodes_[size_t(i)].grad_slot)]; }
  bool shares_eval() const { return !inspectable_; }
  // Node i's output has storage of its own: not written into another's, not inside a fusion chain.
  bool holds_output(int i) const {
    const Node& n = nodes_[size_t(i)];
    return n.into < 0 && (!n.absorbed || n.written_by >= 0);
  }
  // The last forward ran in eval mode with shared buffers: only the net's output is intact.
  bool eval_buffers_in_use() const { return !last_train_ && shares_eval(); }
  enum class Kept { output, gradient };
  void check_kept(int node, Kept what) const;

  ModelSpec spec_;
  std::vector<Node> nodes_;
  std::vector<NamedParam> params_;
  std::vector<NamedBuffer> buffers_;
  int64_t planned_batch_ = 0;
  const Tensor* input_ = nullptr;
  Shape input_shape_;
  std::vector<char> grad_written_;
  std::vector<char> main_path_;  // nodes the main output depends on
  Tensor workspace_;             // scratch shared by all layers, sized when planned
  bool inspectable_ = false;
  bool inference_fused_ = false;
  bool blocked_handoffs_ = true;
  bool last_train_ = true;       // mode of the last forward
  std::vector<Tensor> eval_slots_, grad_slots_;
  std::vector<int64_t> eval_capacity_, grad_capacity_;  // floats per slot, from the plan
  bool train_ready_ = false, eval_ready_ = false;       // allocated at the planned batch
  int64_t workspace_floats_[2] = {0, 0};                 // eval, train
  bool profiling_ = false;
  std::vector<char> frozen_;     // per params_ entry (set_frozen)
  std::vector<size_t> frozen_in_trainable_nodes_;  // their gradients are computed, then zeroed
  std::vector<NodeTime> times_;
  std::vector<ChannelSums> channel_sums_;  // plan_channel_sums
  std::vector<BnPackSlot> bn_slots_;       // plan_packed_batchnorms
  std::vector<BnPlaneSums> bn_plane_sums_;  // per forward slot (packs_output): RunContext::plane_sums_out
  bool pack_batchnorms_ = true;            // off while lsuv() runs its forwards over stored outputs
  std::vector<size_t> first_param_;  // per node: its first entry in params_
  std::function<void(size_t)> gradients_ready_;
};

}  // namespace cnn
