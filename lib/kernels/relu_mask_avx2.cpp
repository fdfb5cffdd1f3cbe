// ReLU mask kernels for AVX2 (8 lanes).
#define CNN_RELU_MASK_NS avx2
#include "kernels/relu_mask_impl.h"
