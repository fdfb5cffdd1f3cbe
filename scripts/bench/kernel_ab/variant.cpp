// One variant of the blocked-convolution micro-kernels for kernel_ab.cpp: the blocked_conv_simd.h
// named by CNN_AB_HEADER (the working tree's, or a revision's written out by kernel_ab.sh) in a
// namespace of its own, so that two variants link into one program. Compiled once per variant and
// ISA with that ISA's flags; the two-block entry of the ISA's table (blocked_conv_avx*.cpp).
#define blocked_conv_simd CNN_AB_NAMESPACE
#include CNN_AB_HEADER
#if CNN_AB_AVX512
#include "kernels/simd_avx512.h"
#else
#include "kernels/simd_avx2.h"
#endif

namespace cnn::kernel_ab {
#if CNN_AB_AVX512
using V = V512;
constexpr int P = 12, B = 2, MT = 6, CV = 4;
#else
using V = V256;
constexpr int P = 6, B = 2, MT = 6, CV = 2;
#endif
void CNN_AB_FORWARD(const BlockedConvArgs& a, int64_t i0, int64_t i1) { CNN_AB_NAMESPACE::forward<V, P, B>(a, i0, i1); }
void CNN_AB_WGRAD(const BlockedWgradArgs& a, int64_t i0, int64_t i1, float* dwt) {
  CNN_AB_NAMESPACE::wgrad<V, MT, CV>(a, i0, i1, dwt);
}
}  // namespace cnn::kernel_ab
