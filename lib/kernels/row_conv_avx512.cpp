// AVX-512 row-convolution kernels (compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma:
// see CMakeLists.txt). Forward tile: 6 output channels x 4 vectors (64 positions) = 24 of the 32
// registers (1x1 convolutions: 12 output channels x 2 vectors); wgrad tile: 12 (channel, tap) pairs x 2 vectors of output channels; wgrad_rows tile: 4 output channels x 6 (channel, tap) pairs.
#include "kernels/row_conv_simd.h"
#include "kernels/simd_avx512.h"

namespace cnn {

const RowConvKernel kRowConvAvx512{"avx512", Isa::avx512, V512::kLanes, row_conv_simd::forward<V512, 4, 2>,
                                   row_conv_simd::wgrad<V512, 12>, row_conv_simd::wgrad_rows<V512, 4, 6>};

}  // namespace cnn
