#pragma once
// Net: the DAG of layers built from a ModelSpec. Activations and gradients are planned once per
// batch size and reused; forward/backward walk the nodes in topological order.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "config/model_spec.h"
#include "layers/layer.h"

namespace cnn {

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
  Tensor& head_grad(size_t i) { return nodes_[size_t(spec_.heads[i].node)].grad; }
  // Gradient of the loss with respect to the output (sized by forward); fill it, then backward().
  Tensor& output_grad() { return nodes_.back().grad; }
  const Tensor& output() const { return nodes_.back().out; }
  // Accumulates parameter gradients (call zero_grad() first). Needs the preceding forward's state.
  void backward(RunContext& ctx);
  void zero_grad();
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
  // nodes with nothing trainable at or before them. `eval_nodes` run in eval mode even when
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
    check_not_fused(node, "output");
    return nodes_[size_t(node)].out;
  }
  const Tensor& backward_to(int node, RunContext& ctx);

  const std::vector<NamedParam>& params() const { return params_; }
  const std::vector<NamedBuffer>& buffers() const { return buffers_; }
  int64_t num_params() const;
  std::vector<LayerSummary> summary() const;  // at the spec's input shape
  const ModelSpec& spec() const { return spec_; }
  Shape output_shape() const;                 // per sample

  // ReLU fusion (on by default): a BatchNorm or add whose output only feeds a ReLU applies it in
  // its own passes (Layer::fuse_relu), and its own output is never stored: activation() and
  // backward_to() of such a node throw. Turn it off to look at every node (cnn explain, report).
  // Results are bit-identical either way.
  void set_fusion(bool on);
  bool fused(int node) const { return nodes_[size_t(node)].relu_into >= 0; }

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
    Tensor out, grad;
    std::vector<Tensor> extra; // per input slot: scratch for gradients that must be summed
    bool needs_grad = false;   // some trainable parameter at or before this node
    bool eval_in_train = false;  // runs in eval mode during training (set_frozen)
    int relu_into = -1;        // fused: the ReLU node whose output and gradient this node uses
    bool absorbed = false;     // a ReLU fused into its input node: never run
  };
  void plan(int64_t batch);
  void init_defaults(uint64_t seed);
  void apply_init_spec(uint64_t seed);
  const Shape& shape_of(int index) const;
  void backward_from(int stop, bool heads, RunContext& ctx);  // nodes after `stop` (-1: all)
  Tensor& output_of(Node& n) { return n.relu_into >= 0 ? nodes_[size_t(n.relu_into)].out : n.out; }
  void check_not_fused(int node, const char* what) const;

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
  bool profiling_ = false;
  std::vector<char> frozen_;     // per params_ entry (set_frozen)
  std::vector<NodeTime> times_;
};

}  // namespace cnn
