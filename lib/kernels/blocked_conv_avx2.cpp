// AVX2 + FMA blocked-convolution kernels: 6 pixels x 2 blocks of 8 output channels = 12
// accumulators + 2 weight vectors + 1 broadcast of the 16 registers; for one block, 12 pixels. The
// weight gradient: 6 output channels x 2 input blocks, the same 12 + 2 + 1.
#include "kernels/blocked_conv_simd.h"
#include "kernels/simd_avx2.h"

namespace cnn {

constinit const BlockedConvKernel kBlockedConvAvx2 =
    blocked_conv_simd::table_entry<V256, 6, 2, 6, 2>("avx2", Isa::avx2);
constinit const BlockedConvKernel kBlockedConvAvx2OneBlock =
    blocked_conv_simd::table_entry<V256, 12, 1, 6, 2>("avx2", Isa::avx2);

}  // namespace cnn
