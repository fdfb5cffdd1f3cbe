#pragma once
// The register tiles of each ISA's blocked-convolution table entries (blocked_conv_avx512.cpp,
// blocked_conv_avx2.cpp), named once for them and for scripts/bench/kernel_ab: P output pixels x
// B output blocks forward, MT output channels x CV input blocks in the weight gradient.
namespace cnn {

struct BlockedTileShape {
  int P, B, MT, CV;
};

inline constexpr BlockedTileShape kAvx512TwoBlockTile{12, 2, 8, 3};
inline constexpr BlockedTileShape kAvx512FourBlockTile{6, 4, 6, 4};
inline constexpr BlockedTileShape kAvx512OneBlockTile{16, 1, 6, 4};
inline constexpr BlockedTileShape kAvx2TwoBlockTile{6, 2, 6, 2};
inline constexpr BlockedTileShape kAvx2OneBlockTile{12, 1, 6, 2};

}  // namespace cnn
