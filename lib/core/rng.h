#pragma once
// Deterministic random numbers whose whole state is four 64-bit words (saved in checkpoints).
// xoshiro256** seeded through splitmix64; identical on every platform and standard library.
#include <array>
#include <cstdint>

namespace cnn {

uint64_t splitmix64(uint64_t& state);
// A stateless hash of several keys: for randomness that must not depend on thread timing
// (augmentation of sample i in epoch e under seed s).
uint64_t hash_keys(uint64_t a, uint64_t b = 0, uint64_t c = 0, uint64_t d = 0);

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { reseed(seed); }
  void reseed(uint64_t seed);
  uint64_t next_u64();
  uint32_t next_u32() { return static_cast<uint32_t>(next_u64() >> 32); }
  float uniform();                       // [0, 1)
  float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }
  float normal();                        // standard normal (Box-Muller)
  uint64_t below(uint64_t n);            // [0, n), unbiased
  std::array<uint64_t, 4> state() const { return s_; }
  void set_state(const std::array<uint64_t, 4>& s) { s_ = s; }

 private:
  std::array<uint64_t, 4> s_{};
};

// Fisher-Yates with Rng::below: the same permutation everywhere (std::shuffle is not portable).
template <class T>
void shuffle(T* v, uint64_t n, Rng& rng) {
  for (uint64_t i = n; i > 1; --i) {
    uint64_t j = rng.below(i);
    T tmp = v[i - 1];
    v[i - 1] = v[j];
    v[j] = tmp;
  }
}

}  // namespace cnn
