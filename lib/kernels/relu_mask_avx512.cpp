// ReLU mask kernels for AVX-512 (16 lanes).
#define CNN_RELU_MASK_NS avx512
#include "kernels/relu_mask_impl.h"
