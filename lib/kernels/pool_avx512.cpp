// Pooling kernels for AVX-512 (16 lanes).
#define CNN_POOL_NS avx512
#include "kernels/pool_impl.h"
