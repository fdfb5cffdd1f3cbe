#include "graph/net.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "core/error.h"
#include "core/memory_budget.h"
#include "core/parallel.h"
#include "graph/memory_plan.h"
#include "core/rng.h"
#include "layers/init.h"
#include "layers/registry.h"

namespace cnn {


const Shape& Net::shape_of(int index) const { return index < 0 ? input_shape_ : nodes_[index].shape; }

Net::Net(const ModelSpec& spec) : spec_(spec) {
  if (spec.nodes.empty()) throw ConfigError(SourceLoc{spec.file, 0, 0}, "", "the model has no layers");
  nodes_.reserve(spec.nodes.size());
  for (const NodeSpec& ns : spec.nodes) {
    Node n;
    n.name = ns.name;
    n.type = ns.type;
    n.inputs = ns.inputs;
    n.layer = make_layer(ns.args);
    nodes_.push_back(std::move(n));
  }
  plan(1);  // builds parameters and validates every shape
  for (Node& n : nodes_) {
    bool needs = !n.layer->params().empty();
    for (int i : n.inputs)
      if (i >= 0 && nodes_[i].needs_grad) needs = true;
    n.needs_grad = needs;
    first_param_.push_back(params_.size());
    for (Param* p : n.layer->params()) params_.push_back({n.name + "." + p->name, p});
    for (Buffer* b : n.layer->buffers()) buffers_.push_back({n.name + "." + b->name, b});
  }
  grad_written_.assign(nodes_.size(), 0);
  main_path_.assign(nodes_.size(), 0);
  main_path_.back() = 1;
  for (int i = static_cast<int>(nodes_.size()) - 1; i >= 0; --i)
    if (main_path_[size_t(i)])
      for (int k : nodes_[size_t(i)].inputs)
        if (k >= 0) main_path_[size_t(k)] = 1;
  init_defaults(0);
  set_fusion(true);
  plan_channel_sums();
}

// Not part of set_fusion: fused and inspectable nets compute the same statistics (same bits).
void Net::plan_channel_sums() {
  const std::vector<int> readers = reader_counts();
  for (Node& bn : nodes_) {
    if (bn.layer->fusion_info().kind != FusionInfo::Kind::batchnorm || bn.inputs.size() != 1 || bn.inputs[0] < 0)
      continue;
    Node& src = nodes_[size_t(bn.inputs[0])];
    if (readers[size_t(bn.inputs[0])] != 1 || !src.layer->writes_channel_sums()) continue;
    src.sums_out = bn.sums_in = static_cast<int>(channel_sums_.size());
    channel_sums_.emplace_back();
  }
}

void Net::clear_fusion() {
  for (Node& n : nodes_) {
    if (n.into >= 0 && !n.inference_head) n.layer->fuse_relu(false);
    if (n.relu_before) n.layer->fuse_relu_before(false);
    n.relu_before = false;
    if (n.inference_head) n.layer->fuse_for_inference(nullptr);
    n.into = -1;
    n.absorbed = false;
    n.written_by = -1;
    n.residual = Node::kNoResidual;
    n.inference_head = false;
    n.in_place_of = -1;
    n.overwritten = false;
    n.alias_of = -1;
  }
  planned_batch_ = 0;  // plan again: fused nodes keep no tensors of their own
}

void Net::set_fusion(bool on) {
  clear_fusion();
  inference_fused_ = false;
  if (!on) return;
  fuse_relus();
  fuse_identities();
  fuse_in_place();
}

// Measured on ResNet-20 training at batch 128 (2 threads): the identity shortcuts' copies took
// 0.9 ms forward and 0.6 ms backward each at 32x32 (3% of a step).
void Net::fuse_identities() {
  const int last = static_cast<int>(nodes_.size()) - 1;
  for (int s = 0; s < last; ++s) {
    Node& n = nodes_[size_t(s)];
    if (n.absorbed || n.into >= 0 || n.inputs.size() != 1 || n.inputs[0] < 0 || !n.layer->passes_input_through())
      continue;
    bool head = false;
    for (const HeadSpec& h : spec_.heads) head = head || h.node == s;
    if (!head) n.alias_of = n.inputs[0];
  }
}

// Measured on ResNet-50 training at batch 32: the adds' outputs were 0.7 GB of the 4.6 GB plan.
void Net::fuse_in_place() {
  const std::vector<int> readers = reader_counts(), reader = last_readers();
  for (size_t d = 0; d < nodes_.size(); ++d) {
    Node& add = nodes_[d];
    // Two inputs: the add reads both at each index before writing it (Layer Add).
    if (add.absorbed || add.inputs.size() != 2 || add.inputs[0] == add.inputs[1] ||
        add.layer->fusion_info().kind != FusionInfo::Kind::add || add.layer->backward_reads_inputs())
      continue;
    const int holder = add.into >= 0 ? add.into : static_cast<int>(d);  // the node whose value the add writes
    for (int a : add.inputs) {
      if (a < 0) continue;
      Node& src = nodes_[size_t(a)];
      if (readers[size_t(a)] != 1 || src.absorbed || src.into >= 0 || src.overwritten || src.alias_of >= 0 ||
          src.layer->backward_reads_output() || src.shape != add.shape)
        continue;
      if (packing_reader_input(a, readers, reader) >= 0) continue;  // the add reads it packed: not stored
      nodes_[size_t(holder)].in_place_of = src.in_place_of >= 0 ? src.in_place_of : a;
      src.overwritten = true;
      break;
    }
  }
}

std::vector<int> Net::last_readers() const {
  std::vector<int> reader(nodes_.size(), -1);
  for (size_t r = 0; r < nodes_.size(); ++r)
    for (int i : nodes_[r].inputs)
      if (i >= 0) reader[size_t(i)] = static_cast<int>(r);
  return reader;
}

std::vector<int> Net::reader_counts() const {
  std::vector<int> readers(nodes_.size(), 0);
  for (const Node& n : nodes_)
    for (int i : n.inputs)
      if (i >= 0) ++readers[size_t(i)];
  for (const HeadSpec& h : spec_.heads) ++readers[size_t(h.node)];  // read by the loss
  return readers;
}

// A ReLU goes into the layer before it when that one takes it, else into the layer after it (the
// ReLU then passes its input through in training, as an identity: alias_of). Measured (session 29,
// Intel Xeon, LeNet-5 b64 training, `perf`): its two ReLUs' passes, forward and backward, were
// 4.4% of the step before their max pools took them.
void Net::fuse_relus() {
  const std::vector<int> readers = reader_counts(), reader = last_readers();
  const int last = static_cast<int>(nodes_.size()) - 1;
  for (size_t j = 0; j < nodes_.size(); ++j) {
    Node& relu = nodes_[j];
    if (relu.absorbed || !relu.layer->is_relu() || relu.inputs.size() != 1 || relu.inputs[0] < 0) continue;
    Node& src = nodes_[size_t(relu.inputs[0])];
    if (src.absorbed || src.into >= 0 || readers[size_t(relu.inputs[0])] != 1) continue;
    if (src.layer->fuse_relu(true)) {
      src.into = static_cast<int>(j);
      relu.absorbed = true;
      relu.written_by = relu.inputs[0];
      continue;
    }
    const int r = reader[j];
    if (static_cast<int>(j) == last || readers[j] != 1 || r < 0) continue;
    Node& rn = nodes_[size_t(r)];
    if (rn.absorbed || rn.inputs.size() != 1 || !rn.layer->fuse_relu_before(true)) continue;
    rn.relu_before = true;
    relu.alias_of = relu.inputs[0];
  }
}

void Net::set_inspectable(bool on) {
  inspectable_ = on;
  set_fusion(!on);
}

void Net::check_kept(int node, Kept what) const {
  const Node& n = nodes_.at(size_t(node));
  const char* name = what == Kept::output ? "output" : "gradient";
  if (n.into >= 0)
    throw RuntimeError(std::string("the ") + name + " of layer '" + n.name +
                       "' is not kept: it is fused with the layers that follow (Net::set_inspectable)");
  if (n.alias_of >= 0 && n.layer->is_relu() && (what == Kept::gradient || !eval_buffers_in_use()))
    throw RuntimeError(std::string("the ") + name + " of layer '" + n.name +
                       "' is not kept: the layer after it applies it (Net::set_inspectable)");
  if (what == Kept::output && n.unstored && !eval_buffers_in_use())
    throw RuntimeError("the output of layer '" + n.name +
                       "' is not kept in training: the layer after it normalizes its input as it reads it "
                       "(Net::set_inspectable)");
  if (what == Kept::output && n.overwritten && !eval_buffers_in_use())
    throw RuntimeError("the output of layer '" + n.name +
                       "' is not kept: the add after it writes over it in training (Net::set_inspectable)");
  if (what == Kept::output && eval_buffers_in_use())
    throw RuntimeError("the output of layer '" + n.name +
                       "' is not kept after an eval forward: buffers are shared (Net::set_inspectable)");
}

void Net::plan(int64_t batch) {
  planned_batch_ = 0;  // a plan that throws (the memory budget) leaves nothing planned
  input_shape_ = spec_.input;
  input_shape_.insert(input_shape_.begin(), batch);
  MemoryPlan memory(spec_.name, batch);
  for (size_t k = 0; k < nodes_.size(); ++k) {
    Node& n = nodes_[k];
    std::vector<Shape> in;
    for (int i : n.inputs) in.push_back(shape_of(i));
    try {
      n.shape = n.layer->infer(in);  // allocates the layer's parameters
      memory.add_node(n.layer->params(), n.layer->buffers(), n.shape, n.name);
    } catch (const MemoryBudgetError& e) {
      const LayerArgs& args = spec_.nodes[k].args;
      throw ConfigError(args.loc(), n.name, fmt::format("{} layer: {}", n.type, e.what()));
    }
  }
  plan_blocked_handoffs(batch);
  plan_packed_batchnorms();
  plan_buffers();
  planned_batch_ = batch;
}

const Tensor& Net::forward(const Tensor& input, RunContext& ctx) {
  const Shape& s = input.shape();
  Shape per(s.begin() + (s.empty() ? 0 : 1), s.end());
  if (s.empty() || per != spec_.input)
    throw RuntimeError("model '" + spec_.name + "' expects input N x " + shape_str(spec_.input) + ", got " +
                       shape_str(s));
  const bool train = ctx.train;
  if (train && inference_fused_) fuse_for_inference(false);  // the weights are about to change
  if (s[0] != planned_batch_) plan(s[0]);
  prepare(train);
  last_train_ = train;
  input_ = &input;
  ctx.workspace = &workspace_;
  std::vector<const Tensor*> in;
  RunContext eval_ctx{false, ctx.rng};  // for the nodes set_frozen keeps in eval mode
  for (size_t k = 0; k < nodes_.size(); ++k) {
    Node& n = nodes_[k];
    if (n.absorbed || (!train && !main_path_[k]) || (train && n.alias_of >= 0)) continue;
    in.clear();
    for (int i : n.inputs) in.push_back(i < 0 ? input_ : &output_of(i, train));
    if (n.residual != Node::kNoResidual) in.push_back(n.residual < 0 ? input_ : &output_of(n.residual, train));
    RunContext& node_ctx = n.eval_in_train ? eval_ctx : ctx;
    ctx.channel_sums_out = train && n.sums_out >= 0 ? &channel_sums_[size_t(n.sums_out)] : nullptr;
    ctx.channel_sums_in = train && n.sums_in >= 0 ? &channel_sums_[size_t(n.sums_in)] : nullptr;
    node_ctx.bn_output_map = train && n.packs_output >= 0 ? &bn_slots_[size_t(n.packs_output)] : nullptr;
    node_ctx.input_map = train ? packed_input(n, in) : nullptr;
    node_ctx.input_map_at = n.packed_at;
    Tensor& out = output_of(static_cast<int>(k), train);
    if (!profiling_) {
      n.layer->forward(in, out, node_ctx);
    } else {
      auto t0 = std::chrono::steady_clock::now();
      n.layer->forward(in, out, node_ctx);
      times_[k].forward_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    node_ctx.bn_output_map = nullptr;
    node_ctx.input_map = nullptr;
  }
  ctx.channel_sums_out = nullptr;
  ctx.channel_sums_in = nullptr;
  if (train) {  // the caller fills these before backward()
    output_grad().resize(nodes_.back().shape);
    for (const HeadSpec& h : spec_.heads) grad_of(h.node).resize(nodes_[size_t(h.node)].shape);
  }
  return output_of(static_cast<int>(nodes_.size()) - 1, train);
}

void Net::backward(RunContext& ctx) { backward_from(-1, true, ctx); }

int Net::node_index(const std::string& name) const {
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].name == name) return static_cast<int>(i);
  return -1;
}

const Tensor& Net::backward_to(int node, RunContext& ctx) {
  check_kept(node, Kept::gradient);
  Node& n = nodes_.at(size_t(node));
  if (!n.needs_grad)
    throw RuntimeError("no gradient reaches layer '" + n.name + "': nothing trainable at or before it");
  backward_from(node, false, ctx);
  Tensor& g = grad_of(node);
  if (!grad_written_[size_t(node)]) {  // the output does not depend on it
    g.resize(n.shape);
    g.zero();
  }
  return g;
}

void Net::backward_from(int stop, bool heads, RunContext& ctx) {
  std::fill(grad_written_.begin(), grad_written_.end(), 0);
  grad_written_.back() = 1;  // output_grad() and head_grad() were filled by the caller
  if (heads)
    for (const HeadSpec& h : spec_.heads) grad_written_[size_t(h.node)] = 1;
  if (eval_buffers_in_use())
    throw RuntimeError("backward needs a training forward first (an eval forward shares buffers)");
  ctx.workspace = &workspace_;
  for (BnPackSlot& slot : bn_slots_) slot.filled = false;
  for (BnPlaneSums& s : bn_plane_sums_) s.filled = false;
  RunContext frozen_ctx = ctx;  // for nodes whose parameters are all frozen
  frozen_ctx.param_grads = false;
  std::vector<const Tensor*> in;
  std::vector<Tensor*> din;
  for (int idx = static_cast<int>(nodes_.size()) - 1; idx > stop; --idx) {
    Node& n = nodes_[idx];
    // A fused node runs its ReLU's backward too, from the ReLU's output and gradient.
    const int own = n.into >= 0 ? n.into : idx;
    if (n.absorbed || !n.needs_grad || !grad_written_[size_t(own)]) continue;
    if (n.grad_alias) {  // its gradient is its input's, already written by its readers
      grad_written_[size_t(n.alias_of)] = 1;
      continue;
    }
    in.clear();
    din.clear();
    std::vector<int> extra_slots;
    bool add_input_grad = false;  // planned (adds_input_grad) and written by another reader this time
    for (size_t j = 0; j < n.inputs.size(); ++j) {
      int k = n.inputs[j];
      in.push_back(k < 0 ? input_ : &storage(k));
      if (k < 0 || !nodes_[k].needs_grad) {
        din.push_back(nullptr);
      } else if (!grad_written_[k] || n.adds_input_grad) {
        Tensor& g = grad_of(k);
        if (grad_written_[k]) add_input_grad = true;
        else g.resize(nodes_[k].shape);
        grad_written_[k] = 1;
        din.push_back(&g);
      } else {
        Tensor& e = grad_slots_[size_t(n.extra_slot[j])];
        e.resize(nodes_[k].shape);
        din.push_back(&e);
        extra_slots.push_back(static_cast<int>(j));
      }
    }
    auto t0 = std::chrono::steady_clock::now();
    RunContext& node_ctx = n.params_frozen ? frozen_ctx : ctx;
    node_ctx.add_input_grad = add_input_grad;
    node_ctx.input_map = packed_input(n, in);
    node_ctx.input_map_at = n.packed_at;
    // The writer of a packed BatchNorm's input runs after it only when it is past `stop`.
    node_ctx.bn_grad_map = n.packs_grad >= 0 && n.inputs[0] > stop ? &bn_slots_[size_t(n.packs_grad)] : nullptr;
    node_ctx.output_grad_map = n.packed_output_grad >= 0 ? &bn_slots_[size_t(n.packed_output_grad)] : nullptr;
    node_ctx.plane_sums_out = n.packed_input >= 0 ? &bn_plane_sums_[size_t(n.packed_input)] : nullptr;
    node_ctx.plane_sums_in = n.packs_output >= 0 ? &bn_plane_sums_[size_t(n.packs_output)] : nullptr;
    n.layer->backward(in, storage(own), grad_of(own), din, node_ctx);
    node_ctx.add_input_grad = false;
    node_ctx.input_map = nullptr;
    node_ctx.bn_grad_map = nullptr;
    node_ctx.output_grad_map = nullptr;
    node_ctx.plane_sums_out = nullptr;
    node_ctx.plane_sums_in = nullptr;
    for (int j : extra_slots) {
      Tensor& g = grad_of(n.inputs[j]);
      const Tensor& e = grad_slots_[size_t(n.extra_slot[size_t(j)])];
      float* gd = g.data();
      const float* ed = e.data();
      parallel_elementwise(g.numel(), [&](int64_t b, int64_t end) {
        for (int64_t i = b; i < end; ++i) gd[i] += ed[i];
      });
    }
    if (profiling_)
      times_[size_t(idx)].backward_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (gradients_ready_) gradients_ready_(first_param_[size_t(idx)]);
  }
  // A frozen parameter of a node with trainable ones had its gradient computed: it gets none.
  for (size_t i : frozen_in_trainable_nodes_) params_[i].param->grad.zero();
}

void Net::set_frozen(const std::vector<char>& frozen, const std::set<std::string>& eval_nodes) {
  frozen_ = frozen;
  frozen_.resize(params_.size(), 0);
  frozen_in_trainable_nodes_.clear();
  size_t pi = 0;
  for (Node& n : nodes_) {
    const size_t first = pi, count = n.layer->params().size();
    bool needs = false;
    for (size_t k = 0; k < count; ++k, ++pi) needs = needs || !frozen_[pi];
    n.params_frozen = count > 0 && !needs;
    for (size_t k = first; k < pi && needs; ++k)
      if (frozen_[k]) frozen_in_trainable_nodes_.push_back(k);
    for (int i : n.inputs)
      if (i >= 0 && nodes_[size_t(i)].needs_grad) needs = true;
    n.needs_grad = needs;
    n.eval_in_train = eval_nodes.count(n.name) != 0;
  }
  planned_batch_ = 0;  // gradient buffers depend on which nodes need a gradient
}

bool Net::is_frozen(size_t param_index) const { return param_index < frozen_.size() && frozen_[param_index]; }

void Net::set_profiling(bool on) {
  profiling_ = on;
  times_.assign(nodes_.size(), NodeTime{});
}

void Net::zero_grad() {
  for (auto& p : params_) p.param->grad.zero();
}

void Net::init_defaults(uint64_t seed) {
  Rng rng(seed);
  for (Node& n : nodes_) n.layer->init(rng);
}

void Net::init(uint64_t seed) {
  init_defaults(seed);
  apply_init_spec(seed);
}

namespace {

uint64_t name_hash(const std::string& s) {  // FNV-1a
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

void Net::apply_init_spec(uint64_t seed) {
  const InitSpec& is = spec_.init;
  if (is.empty()) return;
  InitScheme lsuv_ortho;  // LSUV's pre-init for conv/linear weights not given a scheme
  if (is.lsuv.enabled) {
    lsuv_ortho.type = "orthogonal";
    lsuv_ortho.path = "init.lsuv";
  }
  std::vector<char> used(is.layers.size(), 0);
  for (size_t ni = 0; ni < nodes_.size(); ++ni) {
    Node& n = nodes_[ni];
    for (Param* p : n.layer->params()) {
      const std::string full = n.name + "." + p->name;
      const InitScheme* s = nullptr;
      for (size_t k = 0; k < is.layers.size(); ++k) {  // the last matching key wins
        const std::string& key = is.layers[k].first;
        if (key == full || (key == n.name && p->name == "weight")) s = &is.layers[k].second, used[k] = 1;
      }
      if (!s) {
        const std::string& kind = p->init_kind;
        if (kind == "conv") s = is.conv.set() ? &is.conv : &lsuv_ortho;
        else if (kind == "linear") s = is.linear.set() ? &is.linear : &lsuv_ortho;
        else if (kind == "bias") s = &is.bias;
        else if (kind == "bn_weight" && !spec_.nodes[ni].args.get_bool("zero_init", false)) s = &is.bn;
      }
      if (!s || !s->set() || s->type == "default") continue;  // the layer's default stays
      Rng rng(hash_keys(seed, name_hash(full), 0x1a17));
      apply_init_scheme(*p, *s, rng);
    }
  }
  for (size_t k = 0; k < is.layers.size(); ++k) {
    if (used[k]) continue;
    const auto& [key, s] = is.layers[k];
    std::string missing = key, have;
    for (const Node& n : nodes_) {
      if (key == n.name) missing = key + ".weight";
      else if (key.rfind(n.name + ".", 0) != 0) continue;
      for (Param* p : n.layer->params()) have += (have.empty() ? "" : ", ") + n.name + "." + p->name;
    }
    throw ConfigError(s.loc, s.path,
                      "the model has no parameter '" + missing + "'" +
                          (have.empty() ? " (the layer has no parameters)" : "; the layer has: " + have));
  }
}

std::vector<Net::LsuvLayer> Net::lsuv(const Tensor& input, double tol, int64_t iters) {
  const Shape& s = input.shape();
  Shape per(s.begin() + (s.empty() ? 0 : 1), s.end());
  if (s.empty() || per != spec_.input)
    throw RuntimeError("model '" + spec_.name + "' expects input N x " + shape_str(spec_.input) + ", got " +
                       shape_str(s));
  struct PackAgain {  // packed BatchNorms planned again at the next forward, however this returns
    Net& net;
    ~PackAgain() { net.pack_batchnorms_ = true, net.planned_batch_ = 0; }
  } pack_again{*this};
  pack_batchnorms_ = false;  // its forwards read every stored output
  plan(s[0]);
  prepare(true);
  last_train_ = true;
  input_ = &input;
  Rng rng(0);
  RunContext ctx{false, &rng, &workspace_};
  std::vector<const Tensor*> in;
  auto run = [&](size_t i) {
    if (nodes_[i].absorbed) return;
    in.clear();
    for (int k : nodes_[i].inputs) in.push_back(k < 0 ? input_ : &storage(k));
    nodes_[i].layer->forward(in, output_of(static_cast<int>(i), true), ctx);
  };
  auto variance = [](const Tensor& t) {
    const int64_t n = t.numel();
    double mean = 0, var = 0;
    for (int64_t i = 0; i < n; ++i) mean += t[i];
    mean /= double(n);
    for (int64_t i = 0; i < n; ++i) var += (t[i] - mean) * (t[i] - mean);
    return var / double(n);
  };
  std::vector<LsuvLayer> out;
  size_t done = 0;  // nodes [0, done) are computed
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Param* w = nullptr;
    for (Param* p : nodes_[i].layer->params())
      if (p->name == "weight" && (p->init_kind == "conv" || p->init_kind == "linear")) w = p;
    if (!w) continue;
    for (; done <= i; ++done) run(done);
    LsuvLayer rec;
    rec.name = nodes_[i].name;
    for (;;) {
      rec.variance = variance(storage(static_cast<int>(i)));
      if (std::fabs(rec.variance - 1) < tol || rec.scalings >= iters || !(rec.variance > 0) ||
          !std::isfinite(rec.variance))
        break;
      const float scale = float(1 / std::sqrt(rec.variance));
      float* v = w->value.data();
      for (int64_t j = 0; j < w->value.numel(); ++j) v[j] *= scale;
      ++rec.scalings;
      run(i);
    }
    out.push_back(rec);
  }
  return out;
}

int64_t Net::num_params() const {
  int64_t total = 0;
  for (const auto& p : params_) total += p.param->value.numel();
  return total;
}

Shape Net::output_shape() const {
  Shape s = nodes_.back().shape;
  return Shape(s.begin() + 1, s.end());
}

std::vector<LayerSummary> Net::summary() const {
  std::vector<LayerSummary> rows;
  Shape input = spec_.input;
  input.insert(input.begin(), 1);
  for (const Node& n : nodes_) {
    LayerSummary r;
    r.name = n.name;
    r.type = n.type;
    r.output = Shape(n.shape.begin() + 1, n.shape.end());
    for (Param* p : n.layer->params()) r.params += p->value.numel();
    for (Buffer* b : n.layer->buffers()) r.buffers += b->value.numel();
    std::vector<Shape> in;
    for (int i : n.inputs) {
      Shape s = i < 0 ? input_shape_ : nodes_[i].shape;
      s[0] = 1;
      in.push_back(s);
    }
    Shape out = n.shape;
    out[0] = 1;
    r.macs = n.layer->macs(in, out);
    r.kernel = n.layer->kernel();
    r.head = !main_path_[rows.size()];
    rows.push_back(r);
  }
  return rows;
}

static bool all_finite(const Tensor& t) {
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(t[i])) return false;
  return true;
}

std::string Net::first_nonfinite_activation() const {
  if (eval_buffers_in_use()) return "";  // eval buffers are shared: nothing to name
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].into < 0 && !nodes_[i].overwritten && (last_train_ || main_path_[i]) &&
        !all_finite(stored_output(int(i))))
      return nodes_[i].name;
  return "";
}

std::string Net::first_nonfinite_gradient() const {
  for (int i = static_cast<int>(nodes_.size()) - 1; i >= 0; --i)
    for (Param* p : nodes_[size_t(i)].layer->params())  // gradient buffers are shared: look at the parameters'
      if (!all_finite(p->grad)) return nodes_[size_t(i)].name;
  return "";
}

}  // namespace cnn
