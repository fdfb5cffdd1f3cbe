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
};

}  // namespace cnn
