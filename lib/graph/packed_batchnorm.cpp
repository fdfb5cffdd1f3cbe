// Packed BatchNorms (training; RunContext::bn_output_map and friends): a BatchNorm's elementwise
// passes run inside the packing of the blocked convolution next to it. Forward, the convolution
// that is the only reader of a BatchNorm's output (with its fused ReLU) packs the BatchNorm's input
// through the normalization, and the output is never stored (an add that is the only reader reads
// the input through it the same way); backward, the convolution that wrote a BatchNorm's input,
// read by nothing else, packs the BatchNorm's output gradient through its input gradient, which is
// never stored either.
#include "graph/net.h"

namespace cnn {

void Net::plan_packed_batchnorms() {
  for (Node& n : nodes_) {
    n.packs_output = n.packed_input = n.packed_source = n.packs_grad = n.packed_output_grad = -1;
    n.packed_at = 0;
    n.unstored = false;
  }
  bn_slots_.clear();
  if (inspectable_ || !pack_batchnorms_ || main_path_.size() != nodes_.size()) return;
  const std::vector<int> readers = reader_counts(), reader = last_readers();
  const int last = static_cast<int>(nodes_.size()) - 1;
  int slots = 0;
  for (int b = 0; b <= last; ++b) {
    Node& bn = nodes_[size_t(b)];
    if (bn.absorbed || bn.inputs.size() != 1 || !bn.layer->packs_into_convolutions()) continue;
    const int own = bn.into >= 0 ? bn.into : b;
    const int at = packing_reader_input(b, readers, reader);
    Node* r = at >= 0 ? &nodes_[size_t(reader[size_t(own)])] : nullptr;
    // One packed input per reader, and none into an add that writes over the BatchNorm's output
    // (fuse_in_place puts no add over an output it could read packed, but runs at set_fusion).
    if (r && r->packed_input < 0 && nodes_[size_t(r->into >= 0 ? r->into : reader[size_t(own)])].in_place_of != own) {
      bn.packs_output = r->packed_input = slots++;
      r->packed_source = bn.inputs[0];
      r->packed_at = at;
      nodes_[size_t(own)].unstored = true;
    }
    const int w = bn.inputs[0];
    if (w >= 0 && readers[size_t(w)] == 1 && nodes_[size_t(w)].into < 0 && nodes_[size_t(w)].inputs.size() == 1 &&
        nodes_[size_t(w)].layer->packs_output_grad())
      bn.packs_grad = nodes_[size_t(w)].packed_output_grad = slots++;
  }
  bn_slots_.resize(size_t(slots));
  bn_plane_sums_.resize(size_t(slots));
}

int Net::packing_reader_input(int b, const std::vector<int>& readers, const std::vector<int>& reader) const {
  const Node& bn = nodes_[size_t(b)];
  const int own = bn.into >= 0 ? bn.into : b;
  const int r = reader[size_t(own)];
  if (bn.absorbed || bn.inputs.size() != 1 || !bn.layer->packs_into_convolutions() ||
      own == static_cast<int>(nodes_.size()) - 1 || readers[size_t(own)] != 1 || r < 0)
    return -1;
  const Node& rn = nodes_[size_t(r)];
  if (rn.inputs.size() == 1 && rn.layer->packs_input()) return 0;
  if (!rn.layer->reads_input_through_map()) return -1;
  for (size_t j = 0; j < rn.inputs.size(); ++j)
    if (rn.inputs[j] == own) return static_cast<int>(j);
  return -1;
}

Net::BatchNormPacking Net::batchnorm_packing(int bn) const {
  const Node& b = nodes_.at(size_t(bn));
  BatchNormPacking p;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (b.packs_output >= 0 && nodes_[i].packed_input == b.packs_output) p.forward = static_cast<int>(i);
    if (b.packs_grad >= 0 && nodes_[i].packed_output_grad == b.packs_grad) p.backward = static_cast<int>(i);
  }
  return p;
}

const BnPackSlot* Net::packed_input(const Node& n, std::vector<const Tensor*>& in) {
  if (n.packed_input < 0) return nullptr;
  in[size_t(n.packed_at)] = n.packed_source < 0 ? input_ : &storage(n.packed_source);
  return &bn_slots_[size_t(n.packed_input)];
}

}  // namespace cnn
