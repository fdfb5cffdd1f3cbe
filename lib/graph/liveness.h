#pragma once
// Buffers shared by liveness: tensors whose live ranges do not overlap share one buffer (a slot).
// The Net plans its eval-mode activations (live from the node that writes one to its last reader)
// and its training gradients (live from the first write in the backward pass to the backward of
// the node that owns it) this way, once per batch size.
#include <cstdint>
#include <vector>

namespace cnn {

struct LiveRange {
  int64_t begin = 0, end = 0;  // live over steps [begin, end]
  int64_t floats = 0;          // 0: not needed (no slot)
};

struct SlotPlan {
  std::vector<int> slot;            // per range: its slot, or -1
  std::vector<int64_t> capacity;    // per slot: floats (the largest range it holds)
  int64_t total_floats() const;
};

// Greedy in order of begin (ties by index): a range takes the free slot that fits it most
// tightly, else grows the largest free slot, else opens a new one. Ranges that overlap never
// share a slot.
SlotPlan assign_slots(const std::vector<LiveRange>& ranges);

}  // namespace cnn
