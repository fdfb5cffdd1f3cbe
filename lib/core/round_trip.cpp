#include "core/round_trip.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/spin_wait.h"

namespace cnn {
namespace {

void wait_for(const std::atomic<int>& flag, int want) {
  spin_then_yield([&] { return flag.load(std::memory_order_acquire) == want; });
}

}  // namespace

double cross_thread_round_trip_ns() {
  constexpr int kBatches = 7, kTrips = 2000;
  struct alignas(64) Line {
    std::atomic<int> flag{0};
  };
  Line line;
  // the answering thread: odd values in, the next even value out
  std::thread answer([&line] {
    for (int i = 0; i < kBatches * kTrips; ++i) {
      wait_for(line.flag, 2 * i + 1);
      line.flag.store(2 * i + 2, std::memory_order_release);
    }
  });
  std::vector<double> per_trip;
  for (int b = 0; b < kBatches; ++b) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = b * kTrips; i < (b + 1) * kTrips; ++i) {
      line.flag.store(2 * i + 1, std::memory_order_release);
      wait_for(line.flag, 2 * i + 2);
    }
    const std::chrono::duration<double, std::nano> dt = std::chrono::steady_clock::now() - t0;
    per_trip.push_back(dt.count() / kTrips);
  }
  answer.join();
  std::nth_element(per_trip.begin(), per_trip.begin() + kBatches / 2, per_trip.end());
  return per_trip[kBatches / 2];
}

}  // namespace cnn
