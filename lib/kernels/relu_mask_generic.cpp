// ReLU mask kernels for the x86-64 baseline (SSE2, 4 lanes).
#define CNN_RELU_MASK_NS generic
#include "kernels/relu_mask_impl.h"
