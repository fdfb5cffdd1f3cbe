// AVX2 + FMA blocked-convolution kernels: 6 pixels x 2 blocks of 8 output channels = 12
// accumulators + 2 weight vectors + 1 broadcast of the 16 registers; for one block, 12 pixels. The
// weight gradient: 6 output channels x 2 input blocks, the same 12 + 2 + 1.
#include "kernels/blocked_conv_simd.h"
#include "kernels/blocked_conv_tiles.h"
#include "kernels/simd_avx2.h"

namespace cnn {

template <const BlockedTileShape& S>
constexpr BlockedConvKernel entry() {
  return blocked_conv_simd::table_entry<V256, S.P, S.B, S.MT, S.CV>("avx2", Isa::avx2);
}

constinit const BlockedConvKernel kBlockedConvAvx2 = entry<kAvx2TwoBlockTile>();
constinit const BlockedConvKernel kBlockedConvAvx2OneBlock = entry<kAvx2OneBlockTile>();

}  // namespace cnn
