// Slot assignment by liveness: ranges live at the same step never share a slot, every slot is as
// large as the largest range it holds, and disjoint ranges reuse slots.
#include <catch2/catch.hpp>
#include <vector>

#include "core/rng.h"
#include "graph/liveness.h"

using namespace cnn;

TEST_CASE("liveness: overlapping ranges never share a slot, disjoint ones reuse it", "[graph][liveness]") {
  // A chain: each range overlaps only its neighbours (like activations of a plain network).
  std::vector<LiveRange> chain;
  for (int i = 0; i < 10; ++i) chain.push_back({i, i + 1, 100});
  const SlotPlan p = assign_slots(chain);
  CHECK(p.capacity.size() == 2);
  CHECK(p.total_floats() == 200);
  for (int i = 0; i + 1 < 10; ++i) CHECK(p.slot[size_t(i)] != p.slot[size_t(i + 1)]);
  // Zero-sized ranges get no slot; a larger range grows the slot it takes.
  const SlotPlan q = assign_slots({{0, 0, 10}, {1, 1, 0}, {2, 2, 30}});
  CHECK(q.slot == std::vector<int>{0, -1, 0});
  CHECK(q.capacity == std::vector<int64_t>{30});

  Rng rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<LiveRange> r;
    const int n = 1 + int(rng.below(30));
    for (int i = 0; i < n; ++i) {
      const int64_t b = int64_t(rng.below(40));
      r.push_back({b, b + int64_t(rng.below(8)), int64_t(rng.below(5)) * 16});
    }
    const SlotPlan s = assign_slots(r);
    REQUIRE(s.slot.size() == r.size());
    for (size_t i = 0; i < r.size(); ++i) {
      if (r[i].floats == 0) {
        CHECK(s.slot[i] == -1);
        continue;
      }
      REQUIRE(s.slot[i] >= 0);
      CHECK(s.capacity[size_t(s.slot[i])] >= r[i].floats);
      for (size_t j = 0; j < i; ++j)
        if (s.slot[j] == s.slot[i]) CHECK((r[j].end < r[i].begin || r[i].end < r[j].begin));
    }
  }
}
