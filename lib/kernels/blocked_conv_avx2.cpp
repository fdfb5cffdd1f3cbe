// AVX2 + FMA blocked-convolution kernel: 6 pixels x 2 blocks of 8 output channels = 12
// accumulators + 2 weight vectors + 1 broadcast of the 16 registers.
#include "kernels/blocked_conv_simd.h"
#include "kernels/simd_avx2.h"

namespace cnn {

const BlockedConvKernel kBlockedConvAvx2{"avx2", Isa::avx2, V256::kLanes, 2, 6, blocked_conv_simd::forward<V256, 6, 2>,
    blocked_conv_simd::pack_pixels<V256::kLanes>, blocked_conv_simd::unpack_pixels<V256::kLanes>};

}  // namespace cnn
