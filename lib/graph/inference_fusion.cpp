// Inference fusion (Net::fuse_for_inference): chains of layers that an eval forward runs as one
// output pass of the layer that starts them. A chain starts at a layer that takes one (a
// convolution) and follows sole readers: [BatchNorm] [eval-time identities: drop_path, dropout2d]
// [add of a residual] [ReLU / ReLU6], in that order, each part optional. The residual must be
// ready when the chain's first layer runs: computed before it, or an identity shortcut of
// something computed before it (the shortcut is then skipped and its input passed instead).
// Measured on ResNet-50 batch 1 (one thread): the weight packing that fused convolutions no
// longer repeat was 20% of the forward, BatchNorm 3%.
#include <algorithm>

#include "graph/net.h"
#include "kernels/blocked_conv.h"

namespace cnn {
namespace {

using Kind = FusionInfo::Kind;

}  // namespace

void Net::fuse_for_inference(bool on) {
  if (on == inference_fused_ || inspectable_) return;
  clear_fusion();
  inference_fused_ = on;
  if (on) fuse_inference_chains();
  fuse_relus();  // what no chain took (a BN after a pool, an add of two branches)
}

Net::PlannedMemory Net::planned_inference_memory(int64_t batch) {
  InferenceScope fused(*this);
  return planned_memory(batch, false);
}

void Net::fuse_inference_chains() {
  const std::vector<int> readers = reader_counts();
  const int L = static_cast<int>(nodes_.size());
  // The one reader of node i (on the eval path), or -1.
  auto sole_reader = [&](int i) {
    if (i == L - 1 || readers[size_t(i)] != 1) return -1;
    for (int r = i + 1; r < L; ++r)
      for (int k : nodes_[size_t(r)].inputs)
        if (k == i) return main_path_[size_t(r)] && !nodes_[size_t(r)].absorbed ? r : -1;
    return -1;
  };
  auto kind_of = [&](int i) { return nodes_[size_t(i)].layer->fusion_info().kind; };
  for (int h = 0; h < L; ++h) {
    Node& head = nodes_[size_t(h)];
    if (head.absorbed || !main_path_[size_t(h)]) continue;
    InferenceFusion f;
    std::vector<int> members;  // absorbed into the chain, in order
    int last = h, residual = Node::kNoResidual;
    int r = sole_reader(last);
    if (r >= 0 && kind_of(r) == Kind::batchnorm && nodes_[size_t(r)].inputs.size() == 1) {
      f.bn = nodes_[size_t(r)].layer->fusion_info().bn;
      members.push_back(last = r);
      r = sole_reader(last);
    }
    // A drop_path at the end of a residual branch: the identity in eval forwards.
    while (r >= 0 && kind_of(r) == Kind::identity && nodes_[size_t(r)].inputs.size() == 1) {
      members.push_back(last = r);
      r = sole_reader(last);
    }
    if (r >= 0 && kind_of(r) == Kind::add && nodes_[size_t(r)].inputs.size() == 2) {
      const std::vector<int>& ins = nodes_[size_t(r)].inputs;
      int other = ins[0] == last ? ins[1] : ins[0];
      int skipped = -1;  // an identity shortcut passed over
      if (other > h && kind_of(other) == Kind::identity && sole_reader(other) == r &&
          nodes_[size_t(other)].inputs.size() == 1)
        skipped = other, other = nodes_[size_t(other)].inputs[0];
      if (other != last && other < h) {
        f.residual = true;
        residual = other;
        if (skipped >= 0) members.push_back(skipped);
        members.push_back(last = r);
        r = sole_reader(last);
      }
    }
    if (r >= 0 && kind_of(r) == Kind::clamp && nodes_[size_t(r)].inputs.size() == 1) {
      const FusionInfo c = nodes_[size_t(r)].layer->fusion_info();
      f.clamp = true, f.lo = c.lo, f.hi = c.hi;
      members.push_back(last = r);
    }
    if (!head.layer->fuse_for_inference(&f)) continue;
    head.inference_head = true;
    head.residual = residual;
    if (last == h) continue;  // nothing absorbed: the layer only prepared its weights
    head.into = last;
    for (int m : members) nodes_[size_t(m)].absorbed = true;
    nodes_[size_t(last)].written_by = h;
  }
}

// A tensor is handed over blocked when the convolutions that read it take the same padded plane
// and every chain that adds it as a residual can read it there; its writer then stores into the
// plane. Measured (session 17, Zen 5, ResNet-50 inference at batch 32, `perf`): packing each
// convolution's input into blocked planes and unpacking its output took 7% and 12% of the time.
void Net::plan_blocked_handoffs(int64_t batch) {
  for (Node& n : nodes_) {
    n.layer->write_blocked_output(nullptr);
    n.layer->read_blocked_input(false);
    n.layer->read_blocked_residual(nullptr);
    n.layer->read_blocked_input_plane(nullptr);
    n.blocked_floats = 0;
  }
  if (!inference_fused_ || !shares_eval() || !blocked_handoffs_ || main_path_.size() != nodes_.size()) return;
  const int L = static_cast<int>(nodes_.size());
  std::vector<char> head(size_t(L), 0);
  for (const HeadSpec& h : spec_.heads) head[size_t(h.node)] = 1;
  for (int a = 0; a < L - 1; ++a) {
    Node& held = nodes_[size_t(a)];  // the node whose eval tensor is read
    if (!main_path_[size_t(a)] || held.into >= 0 || !holds_output(a) || head[size_t(a)]) continue;
    std::vector<int> convs, residuals, others;  // others: reading any plane (reads_any_blocked_input)
    bool absorbed_reader = false, other_reader = false;
    const BlockedConvPlan* plane = nullptr;
    for (int r = a + 1; r < L; ++r) {
      const Node& n = nodes_[size_t(r)];
      if (n.inference_head && n.residual == a) residuals.push_back(r);
      if (std::find(n.inputs.begin(), n.inputs.end(), a) == n.inputs.end()) continue;
      if (n.absorbed) {
        absorbed_reader = true;  // the add (or skipped identity) of a chain that takes a as its residual
        continue;
      }
      const BlockedConvPlan* p = n.inputs.size() == 1 ? n.layer->blocked_input_plane() : nullptr;
      if (!p && n.inputs.size() == 1 && n.layer->reads_any_blocked_input()) {
        others.push_back(r);
        continue;
      }
      if (!p || (plane && !same_blocked_input(*plane, *p))) {
        other_reader = true;
        break;
      }
      plane = p;
      convs.push_back(r);
    }
    if (other_reader || (absorbed_reader && residuals.empty())) continue;
    const int writer = held.written_by >= 0 ? held.written_by : a;
    // Only added as a residual (a downsampling block's last conv, added by its shortcut) or read by
    // layers that read any plane: the writer's own unpadded plane.
    if (convs.empty())
      plane = residuals.empty() && others.empty() ? nullptr : nodes_[size_t(writer)].layer->blocked_output_plane();
    // At most twice the plain tensor: borders cost 7% at 56x56 and 65% at 7x7, but a few channels
    // padded to a whole block (8 of AVX-512's 16 lanes) would triple a tensor.
    if (!plane || plane->x_image * batch > 2 * numel_of(held.shape)) continue;
    size_t taken = 0, read = 0;
    while (taken < residuals.size() && nodes_[size_t(residuals[taken])].layer->read_blocked_residual(plane)) ++taken;
    while (taken == residuals.size() && read < others.size() &&
           nodes_[size_t(others[read])].layer->read_blocked_input_plane(plane))
      ++read;
    const bool all_read = taken == residuals.size() && read == others.size();
    if (!all_read || !nodes_[size_t(writer)].layer->write_blocked_output(plane)) {
      for (size_t i = 0; i < taken; ++i) nodes_[size_t(residuals[i])].layer->read_blocked_residual(nullptr);
      for (size_t i = 0; i < read; ++i) nodes_[size_t(others[i])].layer->read_blocked_input_plane(nullptr);
      continue;
    }
    for (int r : convs) nodes_[size_t(r)].layer->read_blocked_input(true);
    held.blocked_floats = batch * plane->x_image;
  }
}

int Net::blocked_handoffs() const {
  int n = 0;
  for (const Node& node : nodes_) n += node.blocked_floats > 0;
  return n;
}

void Net::set_blocked_handoffs(bool on) {
  blocked_handoffs_ = on;
  planned_batch_ = 0;  // plan again
}

}  // namespace cnn
