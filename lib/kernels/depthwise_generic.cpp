// Depthwise kernels for the x86-64 baseline (SSE, 4 lanes).
#define CNN_DEPTHWISE_NS generic
#include "kernels/depthwise_impl.h"
