// AVX2 + FMA row-convolution kernels (compiled with -mavx2 -mfma: see CMakeLists.txt). 16 registers:
// forward tile 6 output channels x 2 vectors (16 positions) = 12 accumulators + 2 inputs + 1
// broadcast; wgrad tile 6 (channel, tap) pairs x 2 vectors of output channels; wgrad_rows tile 2 output channels x 6 pairs.
#include "kernels/row_conv_simd.h"
#include "kernels/simd_avx2.h"

namespace cnn {

const RowConvKernel kRowConvAvx2{"avx2", Isa::avx2, V256::kLanes, row_conv_simd::forward<V256, 2, 0>,
                                 row_conv_simd::wgrad<V256, 6>, row_conv_simd::wgrad_rows<V256, 2, 6>};

}  // namespace cnn
