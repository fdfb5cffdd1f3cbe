#pragma once
// A ReLU's mask as bits: bit j % 64 of word j / 64 is y[j] > 0 (false for -0 and NaN, as
// relu_backward's y[j] > 0.f). A training add with a fused ReLU keeps its mask so (32x fewer bytes
// than its output) and its backward reads the bits instead of the output. Per-ISA kernels
// (relu_mask_impl.h), the naive loops as their twins in the tests; all give relu_backward's bits.
#include <cstdint>

namespace cnn {

inline int64_t relu_mask_words(int64_t n) { return (n + 63) / 64; }

// bits[0, relu_mask_words(n)) from y[0, n); the last word's bits past n are 0.
void relu_mask_bits(const float* y, int64_t n, uint64_t* bits);
// dx[j] = bit j ? dy[j] : +0 (dy's value as it is: -0, NaN), for j < n. dx may be dy.
void relu_backward_bits(const uint64_t* bits, const float* dy, float* dx, int64_t n);

void relu_mask_bits_naive(const float* y, int64_t n, uint64_t* bits);
void relu_backward_bits_naive(const uint64_t* bits, const float* dy, float* dx, int64_t n);

}  // namespace cnn
