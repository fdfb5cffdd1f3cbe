// AVX-512 blocked-convolution kernels: 12 pixels x 2 blocks of 16 output channels = 24
// accumulators + 2 weight vectors + 1 broadcast of the 32 registers; for one block, 16 pixels. The
// weight gradient: 6 output channels x 4 input blocks (6 broadcast pointers, as AVX2's: more
// would not fit the general registers); with two blocks, 8 output channels x 3 input blocks, the
// 8 channels of one block broadcast from one pointer (11 loads per 24 FMAs against 10, fewer
// general registers). Session 26 (Intel Xeon, `scripts/bench/kernel_ab.sh`-style alternation, 30
// repetitions, 2 threads, two rounds): ResNet-18-CIFAR's 3x3 shapes with the pipelined passes'
// images 64 @32x32 0.99-1.05x, 128 @16x16 1.04x, 256 @8x8 1.07-1.13x, 512 @4x4 1.01-1.10x;
// ResNet-50's 128 @28x28 1.04-1.07x, 256 @14x14 1.02-1.06x.
// Input blocks past the last whole 4 (3 with two blocks; all of them at 16 and 32 channels) go one
// at a time against 16 output channels (blocked_conv_simd::wgrad).
// First measured in session 16 (AMD EPYC Zen 5, 2 threads, FMA peak 492 GFLOP/s, `cnn bench
// --train --layers`): 3x3 forward at 64 channels and up 72-82% of peak (ResNet-50 64 @56x56 b32
// 18.3 ms, ResNet-18-CIFAR 64 @32x32 b128 26 ms); at 16 channels 37-42% (ResNet-20's first stage:
// one input block, with the NCHW pack and unpack around it); the weight gradient of ResNet-20's
// 16- and 32-channel stages 36.6-39.1 -> 30.9-36.6 and 32.7-33.2 -> 26.0-28.0 ms (6 layers each)
// with the whole-block tiles for the blocks past the last 4.
// Output channels in multiples of 64: 6 pixels x 4 blocks (24 accumulators + 4 weight vectors + 1
// broadcast), 10 loads per 24 FMAs against 12 x 2's 14, chosen by blocked_conv_kernel. Session 23
// (Zen 5, `cnn bench --layers`, 3 alternating runs, medians): MobileNet v1 inference at batch 32,
// every pointwise layer 3-10% faster (features.5 9.7 -> 8.8 ms, features.1 8.0 -> 7.5); ResNet-50
// at batch 1 38.8 -> 41.2 images/s, its 1x1 layers 0.32 -> 0.26-0.30 ms (layer2.0.conv3) and
// 0.90 -> 0.74 (layer4.0.downsample); its 3x3 layers within the noise.
#include "kernels/blocked_conv_simd.h"
#include "kernels/blocked_conv_tiles.h"
#include "kernels/simd_avx512.h"

namespace cnn {

template <const BlockedTileShape& S>
constexpr BlockedConvKernel entry() {
  return blocked_conv_simd::table_entry<V512, S.P, S.B, S.MT, S.CV>("avx512", Isa::avx512);
}

constinit const BlockedConvKernel kBlockedConvAvx512 = entry<kAvx512TwoBlockTile>();
constinit const BlockedConvKernel kBlockedConvAvx512FourBlocks = entry<kAvx512FourBlockTile>();
constinit const BlockedConvKernel kBlockedConvAvx512OneBlock = entry<kAvx512OneBlockTile>();

}  // namespace cnn
