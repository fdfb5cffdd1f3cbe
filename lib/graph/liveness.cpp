#include "graph/liveness.h"

#include <algorithm>
#include <numeric>

namespace cnn {

int64_t SlotPlan::total_floats() const { return std::accumulate(capacity.begin(), capacity.end(), int64_t(0)); }

SlotPlan assign_slots(const std::vector<LiveRange>& ranges) {
  SlotPlan plan;
  plan.slot.assign(ranges.size(), -1);
  std::vector<size_t> order(ranges.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ranges[a].begin < ranges[b].begin; });
  std::vector<int64_t> busy_until;  // per slot: the end of the range it holds
  for (size_t i : order) {
    const LiveRange& r = ranges[i];
    if (r.floats <= 0) continue;
    int best = -1, largest = -1;
    for (size_t s = 0; s < plan.capacity.size(); ++s) {
      if (busy_until[s] >= r.begin) continue;  // still live
      const int si = static_cast<int>(s);
      if (plan.capacity[s] >= r.floats && (best < 0 || plan.capacity[s] < plan.capacity[size_t(best)])) best = si;
      if (largest < 0 || plan.capacity[s] > plan.capacity[size_t(largest)]) largest = si;
    }
    if (best < 0) best = largest;
    if (best < 0) {
      best = static_cast<int>(plan.capacity.size());
      plan.capacity.push_back(0);
      busy_until.push_back(0);
    }
    plan.capacity[size_t(best)] = std::max(plan.capacity[size_t(best)], r.floats);
    busy_until[size_t(best)] = r.end;
    plan.slot[i] = best;
  }
  return plan;
}

}  // namespace cnn
