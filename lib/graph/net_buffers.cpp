// The Net's activation and gradient buffers: which node's tensor lives where, planned by liveness
// (graph/liveness.h) once per batch size, and allocated for the mode a forward runs in.
#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "core/memory_budget.h"
#include "graph/liveness.h"
#include "graph/net.h"

namespace cnn {
namespace {

constexpr int64_t kForever = std::numeric_limits<int64_t>::max();

}  // namespace

void Net::plan_buffers() {
  const int L = static_cast<int>(nodes_.size());
  if (main_path_.size() != size_t(L)) return;  // the constructor's first pass only checks shapes
  auto step = [&](int idx) { return int64_t(L - 1 - idx); };  // backward runs nodes last to first
  std::vector<char> head(size_t(L), 0);
  for (const HeadSpec& h : spec_.heads) head[size_t(h.node)] = 1;
  // Eval outputs: written by the node (or the node fused into it), live until the last reader.
  std::vector<LiveRange> eval(static_cast<size_t>(L));
  for (int o = 0; o < L; ++o) {
    const Node& n = nodes_[size_t(o)];
    if (!holds_output(o) || !main_path_[size_t(o)] || !shares_eval()) continue;
    const int writer = n.written_by >= 0 ? n.written_by : o;
    eval[size_t(o)] = {writer, o == L - 1 ? kForever : writer, std::max(numel_of(n.shape), n.blocked_floats)};
  }
  // Gradients: from the first write (the last reader's backward, or before backward for the
  // output and side heads) to the backward of the node that owns them.
  std::vector<LiveRange> grads(static_cast<size_t>(L));
  std::vector<int> first_writer(size_t(L), -1);
  for (int r = L - 1; r >= 0; --r) {
    const Node& n = nodes_[size_t(r)];
    for (int k : n.inputs) {
      if (k >= 0 && shares_eval()) eval[size_t(k)].end = std::max(eval[size_t(k)].end, int64_t(r));
      if (k >= 0 && n.needs_grad && !n.absorbed && first_writer[size_t(k)] < 0) first_writer[size_t(k)] = r;
    }
  }
  for (int g = 0; g < L; ++g) {
    const Node& n = nodes_[size_t(g)];
    // The output's and side heads' gradients are filled by the caller even when nothing trains.
    const bool filled_by_caller = g == L - 1 || head[size_t(g)];
    if (n.into >= 0 || (!n.needs_grad && !filled_by_caller)) continue;
    const int64_t own = step(n.absorbed ? n.inputs[0] : g);
    int64_t begin = own;
    int64_t end = own;
    if (filled_by_caller) begin = 0, end = kForever;  // may be reused
    else if (first_writer[size_t(g)] >= 0) begin = step(first_writer[size_t(g)]);
    grads[size_t(g)] = inspectable_ ? LiveRange{0, kForever, numel_of(n.shape)} : LiveRange{begin, end, numel_of(n.shape)};
  }
  // A packed BatchNorm's output gradient is read once more, by the convolution that packs the
  // BatchNorm's input gradient from it (plan_packed_batchnorms), one image group at a time: it
  // lives until that convolution's backward is over.
  for (int b = 0; b < L; ++b) {
    const Node& n = nodes_[size_t(b)];
    if (n.packs_grad < 0) continue;
    LiveRange& dy = grads[size_t(n.into >= 0 ? n.into : b)];
    dy.end = std::max(dy.end, step(n.inputs[0]));
  }
  // An identity that passes its input through (fuse_identities) and would write its input's
  // gradient first shares it: its readers' backward writes the input's gradient directly.
  for (int s = L - 1; s >= 0; --s) {  // last to first: a chain of identities merges into its root
    Node& n = nodes_[size_t(s)];
    n.grad_alias = false;
    const int k = n.alias_of;
    if (k < 0 || inspectable_ || !n.needs_grad || !nodes_[size_t(k)].needs_grad || first_writer[size_t(k)] != s ||
        head[size_t(k)] || grads[size_t(s)].floats == 0 || grads[size_t(k)].floats == 0)
      continue;
    grads[size_t(k)].begin = std::min(grads[size_t(k)].begin, grads[size_t(s)].begin);
    grads[size_t(k)].end = std::max(grads[size_t(k)].end, grads[size_t(s)].end);
    grads[size_t(s)].floats = 0;
    n.grad_alias = true;
  }
  share_add_gradients(grads, first_writer, head);
  // A second writer of a gradient writes into a scratch gradient, summed in during its step.
  std::vector<std::pair<int, size_t>> extras;  // (node, input slot)
  for (int r = 0; r < L; ++r) {
    Node& n = nodes_[size_t(r)];
    n.extra_slot.assign(n.inputs.size(), -1);
    n.adds_input_grad = false;
    if (!n.needs_grad || n.absorbed) continue;
    for (size_t j = 0; j < n.inputs.size(); ++j) {
      const int k = n.inputs[j];
      if (k < 0 || !nodes_[size_t(k)].needs_grad) continue;
      // The first writer's first input slot of k writes k's gradient itself.
      const bool direct = first_writer[size_t(k)] == r && !head[size_t(k)] &&
                          std::find(n.inputs.begin(), n.inputs.end(), k) == n.inputs.begin() + long(j);
      if (direct) continue;
      // A layer that can add its input gradient to what is there needs no scratch and no sum pass.
      // Planned for inspectable nets too: both add in the same order (same bits).
      if (n.inputs.size() == 1 && n.layer->can_add_input_grad()) {
        n.adds_input_grad = true;
        continue;
      }
      extras.push_back({r, j});
      grads.push_back(inspectable_ ? LiveRange{0, kForever, numel_of(nodes_[size_t(k)].shape)}
                                   : LiveRange{step(r), step(r), numel_of(nodes_[size_t(k)].shape)});
    }
  }
  const SlotPlan e = assign_slots(eval), g = assign_slots(grads);
  for (int i = 0; i < L; ++i) {
    nodes_[size_t(i)].eval_slot = e.slot[size_t(i)];
    nodes_[size_t(i)].grad_slot = g.slot[size_t(nodes_[size_t(i)].grad_shares >= 0 ? nodes_[size_t(i)].grad_shares : i)];
    if (nodes_[size_t(i)].grad_alias) nodes_[size_t(i)].grad_slot = nodes_[size_t(nodes_[size_t(i)].alias_of)].grad_slot;
  }
  for (size_t x = 0; x < extras.size(); ++x)
    nodes_[size_t(extras[x].first)].extra_slot[extras[x].second] = g.slot[size_t(L) + x];
  eval_capacity_ = e.capacity;
  grad_capacity_ = g.capacity;
  eval_slots_.resize(eval_capacity_.size());
  grad_slots_.resize(grad_capacity_.size());
  for (int train = 0; train < 2; ++train) {
    workspace_floats_[train] = 0;
    for (const Node& n : nodes_)
      workspace_floats_[train] = std::max(workspace_floats_[train], int64_t(n.layer->workspace_floats(train == 1)));
  }
  train_ready_ = eval_ready_ = false;
}

// An add writes the same gradient into each input's (Layer Add). When it is the first writer of
// both of its inputs' gradients, they can be one slot, written once, provided no other writer adds
// into either while the other is still read: in a ResNet block, the shortcut's gradient gets the
// block input's convolution's only after the residual branch's BatchNorm (and the convolution
// packing its input gradient) has read its own. Measured (session 22, Zen 5, 5 alternating runs of
// `cnn bench --train --layers`): ResNet-20 b128's adds' backward at 32x32 0.87-0.92 -> 0.55-0.58
// ms; peak RSS ResNet-20 b128 210 -> 206 MB, ResNet-50 b32 3.31 -> 3.26 GB.
void Net::share_add_gradients(std::vector<LiveRange>& grads, const std::vector<int>& first_writer,
                              const std::vector<char>& head) {
  const int L = static_cast<int>(nodes_.size());
  auto step = [&](int idx) { return int64_t(L - 1 - idx); };
  auto root = [&](int k) {  // whose slot k's gradient is (identities sharing their input's)
    while (nodes_[size_t(k)].grad_alias) k = nodes_[size_t(k)].alias_of;
    return k;
  };
  // The earliest step at which a node other than `add` writes root r's gradient (its readers'
  // and its sharing identities' readers' backward), or the end of time.
  auto other_writes = [&](int r, int add) {
    int64_t first = std::numeric_limits<int64_t>::max();
    for (int w = 0; w < L; ++w) {
      const Node& n = nodes_[size_t(w)];
      if (w == add || n.absorbed || !n.needs_grad || n.grad_alias) continue;
      for (int k : n.inputs)
        if (k >= 0 && root(k) == r) first = std::min(first, step(w));
    }
    return first;
  };
  for (Node& n : nodes_) n.grad_shares = -1;
  if (inspectable_) return;
  for (int a = 0; a < L; ++a) {
    const Node& add = nodes_[size_t(a)];
    if (add.absorbed || !add.needs_grad || add.inputs.size() != 2 ||
        add.layer->fusion_info().kind != FusionInfo::Kind::add)
      continue;
    const int k0 = add.inputs[0], k1 = add.inputs[1];
    if (k0 < 0 || k1 < 0 || k0 == k1 || first_writer[size_t(k0)] != a || first_writer[size_t(k1)] != a) continue;
    const int r0 = root(k0), r1 = root(k1);
    if (r0 == r1 || head[size_t(r0)] || head[size_t(r1)] || !nodes_[size_t(r0)].needs_grad ||
        !nodes_[size_t(r1)].needs_grad || grads[size_t(r0)].floats == 0 || grads[size_t(r1)].floats == 0 ||
        nodes_[size_t(r0)].grad_shares >= 0 || nodes_[size_t(r1)].grad_shares >= 0)
      continue;
    if (other_writes(r0, a) <= grads[size_t(r1)].end || other_writes(r1, a) <= grads[size_t(r0)].end) continue;
    LiveRange& g = grads[size_t(r1)];
    g.begin = std::min(g.begin, grads[size_t(r0)].begin);
    g.end = std::max(g.end, grads[size_t(r0)].end);
    grads[size_t(r0)].floats = 0;
    nodes_[size_t(r0)].grad_shares = r1;
  }
}

bool Net::same_gradient_buffer(int a, int b) const {
  const int sa = nodes_.at(size_t(a)).grad_slot;
  return sa >= 0 && sa == nodes_.at(size_t(b)).grad_slot;
}

void Net::prepare(bool train) {
  if (!(train || !shares_eval() ? train_ready_ : eval_ready_)) {  // the whole plan, before allocating it
    const PlannedMemory m = planned_memory(planned_batch_, train);
    check_memory_budget(double(m.total()), fmt::format("model '{}' at batch {} ({}: activations and gradients {}, "
                                                       "parameters{} {}, workspace {})",
                                                       spec_.name, planned_batch_, train ? "training" : "inference",
                                                       train ? " with gradients" : "",
                                                       format_bytes(double(m.activations)),
                                                       format_bytes(double(m.params)), format_bytes(double(m.workspace))));
  }
  const int64_t ws = workspace_floats_[train ? 1 : 0];  // inference needs no backward workspace
  if (workspace_.numel() < ws) workspace_.resize({ws});
  if (train || !shares_eval()) {
    if (train_ready_) return;
    for (Node& n : nodes_) {
      if (owns_storage(n)) n.out.resize(n.shape);
      else if (n.unstored) n.out = Tensor();  // stored while lsuv() ran
    }
    for (size_t s = 0; s < grad_slots_.size(); ++s) grad_slots_[s].resize({grad_capacity_[s]});
    train_ready_ = true;
    return;
  }
  if (eval_ready_) return;
  for (size_t s = 0; s < eval_slots_.size(); ++s) eval_slots_[s].resize({eval_capacity_[s]});
  eval_ready_ = true;
}

Tensor& Net::output_of(int i, bool train) {
  const int o = nodes_[size_t(i)].into >= 0 ? nodes_[size_t(i)].into : i;
  Node& n = nodes_[size_t(o)];
  if (train || !shares_eval()) return storage(o);
  Tensor& t = eval_slots_[size_t(n.eval_slot)];
  t.resize(n.shape);  // within the slot's capacity: no allocation
  return t;
}

const Tensor& Net::stored_output(int i) const {
  const Node& n = nodes_[size_t(i)];
  if (!eval_buffers_in_use() || n.eval_slot < 0) return storage(i);
  return eval_slots_[size_t(n.eval_slot)];
}

Net::PlannedMemory Net::planned_memory(int64_t batch, bool train) {
  if (batch != planned_batch_) plan(batch);
  PlannedMemory m;
  for (const NamedParam& p : params_) m.params += (train ? 2 : 1) * p.param->value.numel();
  for (const NamedBuffer& b : buffers_) m.params += b.buffer->value.numel();
  if (train) {
    for (const Node& n : nodes_)
      if (owns_storage(n)) m.activations += numel_of(n.shape);
    for (int64_t c : grad_capacity_) m.activations += c;
  } else if (shares_eval()) {
    for (int64_t c : eval_capacity_) m.activations += c;
  } else {
    for (size_t i = 0; i < nodes_.size(); ++i)
      if (nodes_[i].into < 0 && main_path_[i]) m.activations += numel_of(nodes_[i].shape);
  }
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (train || main_path_[i]) {
      m.activations += int64_t(nodes_[i].layer->state_floats(train));
      m.params += int64_t(nodes_[i].layer->derived_weight_floats(train));
    }
  m.workspace = workspace_floats_[train ? 1 : 0];
  m.params *= int64_t(sizeof(float));
  m.activations *= int64_t(sizeof(float));
  m.workspace *= int64_t(sizeof(float));
  return m;
}

}  // namespace cnn
