// Pooling kernels for the x86-64 baseline (SSE2, 4 lanes).
#define CNN_POOL_NS generic
#include "kernels/pool_impl.h"
