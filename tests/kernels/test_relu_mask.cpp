// The ReLU's mask as bits (kernels/relu_mask.h): every ISA level against the naive loops, and the
// backward through the bits against relu_backward through the output, bit for bit.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "core/rng.h"
#include "isa_levels.h"
#include "kernels/activation.h"
#include "kernels/relu_mask.h"

using namespace cnn;

namespace {

uint32_t bits_of(float v) {
  uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  return u;
}

// Values with the cases a ReLU's mask must get right: +-0, NaN, infinities, denormals, ties at 0.
std::vector<float> signed_values(int64_t n, Rng& rng) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const float special[] = {0.f, -0.f, nan, -nan, inf, -inf, std::numeric_limits<float>::denorm_min(),
                           -std::numeric_limits<float>::denorm_min()};
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    v[size_t(i)] = rng.uniform(0.f, 1.f) < 0.15f ? special[size_t(rng.uniform(0.f, 8.f)) % 8] : rng.uniform(-1.f, 1.f);
  return v;
}

}  // namespace

TEST_CASE("relu mask bits: every ISA level equals the naive loops, and the backward equals relu_backward",
          "[kernels][relu_mask]") {
  cnn::test::for_each_isa([&] {
    Rng rng(5);
    for (int64_t n : {1, 3, 4, 7, 8, 15, 16, 17, 31, 63, 64, 65, 100, 127, 128, 196, 255, 784, 1024, 3136}) {
      INFO("n " << n);
      const std::vector<float> y = signed_values(n, rng), dy = signed_values(n, rng);
      const int64_t words = relu_mask_words(n);
      // one guard word past the end: the kernels write relu_mask_words(n) words, no more
      std::vector<uint64_t> bits(size_t(words + 1), 0x5A5A5A5A5A5A5A5Aull), want(size_t(words + 1), 0x5A5A5A5A5A5A5A5Aull);
      relu_mask_bits(y.data(), n, bits.data());
      relu_mask_bits_naive(y.data(), n, want.data());
      for (int64_t w = 0; w <= words; ++w) REQUIRE(bits[size_t(w)] == want[size_t(w)]);
      for (int64_t j = 0; j < n; ++j) REQUIRE(((bits[size_t(j / 64)] >> (j % 64)) & 1) == (y[size_t(j)] > 0.f ? 1u : 0u));

      std::vector<float> dx(size_t(n + 1), 7.f), dx_naive(size_t(n + 1), 7.f), dx_ref(size_t(n + 1), 7.f);
      relu_backward_bits(bits.data(), dy.data(), dx.data(), n);
      relu_backward_bits_naive(want.data(), dy.data(), dx_naive.data(), n);
      relu_backward(y.data(), dy.data(), dx_ref.data(), n);
      for (int64_t j = 0; j <= n; ++j) {
        REQUIRE(bits_of(dx[size_t(j)]) == bits_of(dx_ref[size_t(j)]));
        REQUIRE(bits_of(dx_naive[size_t(j)]) == bits_of(dx_ref[size_t(j)]));
      }
      std::vector<float> inplace = dy;  // dx may be dy
      relu_backward_bits(bits.data(), inplace.data(), inplace.data(), n);
      for (int64_t j = 0; j < n; ++j) REQUIRE(bits_of(inplace[size_t(j)]) == bits_of(dx_ref[size_t(j)]));
    }
  });
}
