#pragma once
// Waiting for another thread without sleeping: spin briefly, then yield. When another process
// holds the other core, a spinning waiter would only delay the thread it waits for.
#include <thread>

namespace cnn {

// PAUSEs before the first yield: ~100 us on the Zen 4 and Xeon machines measured (sessions 29, 32).
constexpr int kSpinsBeforeYield = 4000;

inline void cpu_relax() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#endif
}

// Returns once done() is true.
template <class Done>
void spin_then_yield(Done done) {
  for (int spins = 0; !done(); ++spins) {
    if (spins < kSpinsBeforeYield) cpu_relax();
    else std::this_thread::yield();
  }
}

}  // namespace cnn
