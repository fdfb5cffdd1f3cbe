// One variant of the blocked-convolution micro-kernels for kernel_ab.cpp: the blocked_conv_simd.h
// named by CNN_AB_HEADER (the working tree's, or a revision's written out by kernel_ab.sh) in a
// namespace of its own, so that two variants link into one program. Compiled once per variant and
// ISA with that ISA's flags; the two-block entry of the ISA's table (blocked_conv_tiles.h), the
// same tile for both variants.
#define blocked_conv_simd CNN_AB_NAMESPACE
#include CNN_AB_HEADER
#if CNN_AB_AVX512
#include "kernels/simd_avx512.h"
#else
#include "kernels/simd_avx2.h"
#endif

#include "kernels/blocked_conv_tiles.h"

namespace cnn::kernel_ab {
#if CNN_AB_AVX512
using V = V512;
static constexpr const BlockedTileShape& S = kAvx512TwoBlockTile;
#else
using V = V256;
static constexpr const BlockedTileShape& S = kAvx2TwoBlockTile;
#endif
void CNN_AB_FORWARD(const BlockedConvArgs& a, int64_t i0, int64_t i1) { CNN_AB_NAMESPACE::forward<V, S.P, S.B>(a, i0, i1); }
void CNN_AB_WGRAD(const BlockedWgradArgs& a, int64_t i0, int64_t i1, float* dwt) {
  CNN_AB_NAMESPACE::wgrad<V, S.MT, S.CV>(a, i0, i1, dwt);
}
}  // namespace cnn::kernel_ab
