// Depthwise kernels for AVX-512 (16 lanes, the 3x3 AVX-512 paths).
#define CNN_DEPTHWISE_NS avx512
#include "kernels/depthwise_impl.h"
