// AVX-512 row-convolution kernels (compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma:
// see CMakeLists.txt). Forward tile: 6 output channels x 4 vectors (64 positions) = 24 of the 32
// registers; wgrad tile: 12 (channel, tap) pairs x 2 vectors of output channels; wgrad_rows tile: 4 output channels x 6 (channel, tap) pairs.
#include <immintrin.h>

#include "kernels/row_conv_simd.h"

namespace cnn {
namespace {

struct V512 {
  static constexpr int kLanes = 16;
  using reg = __m512;
  static reg zero() { return _mm512_setzero_ps(); }
  static reg load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, reg r) { _mm512_storeu_ps(p, r); }
  static reg bcast(const float* p) { return _mm512_set1_ps(*p); }
  static reg fma(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
  static float sum(reg r) {  // in zmm registers: GCC 12 warns inside the 512->256 casts (-Wmaybe-uninitialized)
    r = _mm512_add_ps(r, _mm512_shuffle_f32x4(r, r, _MM_SHUFFLE(1, 0, 3, 2)));
    r = _mm512_add_ps(r, _mm512_shuffle_f32x4(r, r, _MM_SHUFFLE(2, 3, 0, 1)));
    r = _mm512_add_ps(r, _mm512_permute_ps(r, _MM_SHUFFLE(1, 0, 3, 2)));
    r = _mm512_add_ps(r, _mm512_permute_ps(r, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm512_cvtss_f32(r);
  }
};

}  // namespace

const RowConvKernel kRowConvAvx512{"avx512", Isa::avx512, V512::kLanes, row_conv_simd::forward<V512, 4>,
                                   row_conv_simd::wgrad<V512, 12>, row_conv_simd::wgrad_rows<V512, 4, 6>};

}  // namespace cnn
