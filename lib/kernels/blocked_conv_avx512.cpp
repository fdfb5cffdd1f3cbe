// AVX-512 blocked-convolution kernels: 12 pixels x 2 blocks of 16 output channels = 24
// accumulators + 2 weight vectors + 1 broadcast of the 32 registers; for one block, 16 pixels. The
// weight gradient: 6 output channels x 4 input blocks (6 broadcast pointers, as AVX2's: more
// would not fit the general registers).
// Not measured yet (no AVX-512 machine since they were written): the shapes follow the AVX2 ones.
#include "kernels/blocked_conv_simd.h"
#include "kernels/simd_avx512.h"

namespace cnn {

const BlockedConvKernel kBlockedConvAvx512{"avx512", Isa::avx512, V512::kLanes, 2, 12,
                                           blocked_conv_simd::forward<V512, 12, 2>,
    blocked_conv_simd::pack_pixels<V512::kLanes>, blocked_conv_simd::unpack_finish<V512::kLanes>,
    blocked_conv_simd::wgrad<V512, 6, 4>};
const BlockedConvKernel kBlockedConvAvx512OneBlock{"avx512", Isa::avx512, V512::kLanes, 1, 16,
    blocked_conv_simd::forward<V512, 16, 1>, blocked_conv_simd::pack_pixels<V512::kLanes>,
    blocked_conv_simd::unpack_finish<V512::kLanes>, blocked_conv_simd::wgrad<V512, 6, 4>};

}  // namespace cnn
