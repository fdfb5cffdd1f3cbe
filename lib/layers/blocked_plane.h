#pragma once
// Another layer's channel-blocked plane as a layer that writes into it keeps it (Layer's blocked
// handoffs): the plan and where its interior pixels sit.
#include <cstdint>
#include <vector>

#include "kernels/blocked_conv.h"

namespace cnn {

struct PlanePixels {
  BlockedConvPlan plane;
  std::vector<int64_t> pix;
  void set(const BlockedConvPlan* p) {
    plane = p ? *p : BlockedConvPlan{};
    pix = p ? blocked_interior_pixels(*p) : std::vector<int64_t>{};
  }
  bool on() const { return plane.kernel != nullptr; }
  PlaneOrNchw layout() const { return {on() ? &plane : nullptr, pix.data()}; }
};

// Whether `plane` holds a tensor of C channels over an H x W map in blocks of L lanes (a layer
// then writes or reads it there: Layer's blocked handoffs).
inline bool plane_holds(const BlockedConvPlan& plane, int L, int64_t C, int64_t H, int64_t W) {
  return plane.L == L && plane.C == C && plane.g.H == H && plane.g.W == W;
}

}  // namespace cnn
