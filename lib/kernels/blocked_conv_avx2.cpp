// AVX2 + FMA blocked-convolution kernels: 6 pixels x 2 blocks of 8 output channels = 12
// accumulators + 2 weight vectors + 1 broadcast of the 16 registers; for one block, 12 pixels. The
// weight gradient: 6 output channels x 2 input blocks, the same 12 + 2 + 1.
#include "kernels/blocked_conv_simd.h"
#include "kernels/simd_avx2.h"

namespace cnn {

const BlockedConvKernel kBlockedConvAvx2{"avx2", Isa::avx2, V256::kLanes, 2, 6,
    blocked_conv_simd::forward<V256, 6, 2>, blocked_conv_simd::forward<V256, 6, 2, 1>,
    blocked_conv_simd::pack_pixels<V256>, blocked_conv_simd::pack_mapped<V256>,
    blocked_conv_simd::unpack_finish<V256>, blocked_conv_simd::wgrad<V256, 6, 2>,
    blocked_conv_simd::depthwise<V256, 8>, blocked_conv_simd::maxpool<V256, 8>,
    blocked_conv_simd::gather_lanes<V256>};
const BlockedConvKernel kBlockedConvAvx2OneBlock{"avx2", Isa::avx2, V256::kLanes, 1, 12,
    blocked_conv_simd::forward<V256, 12, 1>, blocked_conv_simd::forward<V256, 12, 1, 1>,
    blocked_conv_simd::pack_pixels<V256>, blocked_conv_simd::pack_mapped<V256>,
    blocked_conv_simd::unpack_finish<V256>, blocked_conv_simd::wgrad<V256, 6, 2>,
    blocked_conv_simd::depthwise<V256, 8>, blocked_conv_simd::maxpool<V256, 8>,
    blocked_conv_simd::gather_lanes<V256>};

}  // namespace cnn
