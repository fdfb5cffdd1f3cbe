#include "kernels/relu_mask.h"

#include "core/isa.h"

namespace cnn {

#define CNN_RELU_MASK_DECLARE(ns)                                                    \
  namespace ns {                                                                     \
  void relu_mask_bits(const float* y, int64_t n, uint64_t* bits);                    \
  void relu_backward_bits(const uint64_t* bits, const float* dy, float* dx, int64_t n); \
  }
CNN_RELU_MASK_DECLARE(avx512)
CNN_RELU_MASK_DECLARE(avx2)
CNN_RELU_MASK_DECLARE(generic)
#undef CNN_RELU_MASK_DECLARE

void relu_mask_bits(const float* y, int64_t n, uint64_t* bits) {
  switch (active_isa()) {
    case Isa::avx512: return avx512::relu_mask_bits(y, n, bits);
    case Isa::avx2: return avx2::relu_mask_bits(y, n, bits);
    case Isa::generic: break;
  }
  generic::relu_mask_bits(y, n, bits);
}

void relu_backward_bits(const uint64_t* bits, const float* dy, float* dx, int64_t n) {
  switch (active_isa()) {
    case Isa::avx512: return avx512::relu_backward_bits(bits, dy, dx, n);
    case Isa::avx2: return avx2::relu_backward_bits(bits, dy, dx, n);
    case Isa::generic: break;
  }
  generic::relu_backward_bits(bits, dy, dx, n);
}

void relu_mask_bits_naive(const float* y, int64_t n, uint64_t* bits) {
  for (int64_t w = 0; w < relu_mask_words(n); ++w) bits[w] = 0;
  for (int64_t j = 0; j < n; ++j)
    if (y[j] > 0.f) bits[j / 64] |= uint64_t(1) << (j % 64);
}

void relu_backward_bits_naive(const uint64_t* bits, const float* dy, float* dx, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    const float d = dy[j];
    dx[j] = (bits[j / 64] >> (j % 64)) & 1 ? d : 0.f;
  }
}

}  // namespace cnn
