// Depthwise kernels for AVX2 (8 lanes).
#define CNN_DEPTHWISE_NS avx2
#include "kernels/depthwise_impl.h"
