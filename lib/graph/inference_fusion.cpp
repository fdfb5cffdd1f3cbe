// Inference fusion (Net::fuse_for_inference): chains of layers that an eval forward runs as one
// output pass of the layer that starts them. A chain starts at a layer that takes one (a
// convolution) and follows sole readers: [BatchNorm] [eval-time identities: drop_path, dropout2d]
// [add of a residual] [ReLU / ReLU6], in that order, each part optional. The residual must be
// ready when the chain's first layer runs: computed before it, or an identity shortcut of
// something computed before it (the shortcut is then skipped and its input passed instead).
// Measured on ResNet-50 batch 1 (one thread): the weight packing that fused convolutions no
// longer repeat was 20% of the forward, BatchNorm 3%.
#include "graph/net.h"

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

}  // namespace cnn
