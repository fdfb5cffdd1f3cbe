// Pooling kernels for AVX2 (8 lanes).
#define CNN_POOL_NS avx2
#include "kernels/pool_impl.h"
