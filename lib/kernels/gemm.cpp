#include "kernels/gemm.h"

#include <cblas.h>

#include <algorithm>
#include <cstdint>

#include "core/parallel.h"

namespace cnn {

namespace {
// With one or two rows of C (a fully-connected layer at batch 1 or 2), one SGEMV per row reads B
// once instead of packing it first. Measured (OpenBLAS 0.3.21, Zen 3, 1 thread, B out of cache,
// best of 20): 1 x 1000 x 1024 (MobileNet's classifier) 0.82 -> 0.35 ms, 1 x 1000 x 2048
// (ResNet-50's) 1.37 -> 0.63, 1 x 4096 x 25088 (VGG-16's first) 90.6 -> 27.7, 2 x 1000 x 2048 1.33
// -> 0.81; at 4 rows about even, at 8 SGEMM is faster.
constexpr int kGemvMaxRows = 2;

void sgemm_by_rows(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
                   const float* B, int ldb, float beta, float* C, int ldc) {
  for (int m = 0; m < M; ++m) {
    float* c = C + int64_t(m) * ldc;
    if (beta == 0.f) std::fill(c, c + N, 0.f);  // beta 0 must not read C (it may hold NaN)
    const float* a = trans_a ? A + m : A + int64_t(m) * lda;
    const int inc_a = trans_a ? lda : 1;
    // Row m of C: op(B)^T (N x K) times row m of op(A).
    if (trans_b) cblas_sgemv(CblasRowMajor, CblasNoTrans, N, K, alpha, B, ldb, a, inc_a, beta, c, 1);
    else cblas_sgemv(CblasRowMajor, CblasTrans, K, N, alpha, B, ldb, a, inc_a, beta, c, 1);
  }
}
}  // namespace

void sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc) {
  if (M <= 0 || N <= 0) return;
  if (M <= kGemvMaxRows && K > 0)
    return sgemm_by_rows(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void sgemm_parallel(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A,
                    int lda, const float* B, int ldb, float beta, float* C, int ldc) {
  // Split the larger of M and N; tiny problems run inline.
  int64_t work = int64_t(M) * N * K;
  if (work < (1 << 18) || num_threads() == 1) {
    sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  if (M >= N) {
    parallel_for(M, [&](int64_t b, int64_t e, int) {
      const float* a = trans_a ? A + b : A + b * lda;
      sgemm(trans_a, trans_b, int(e - b), N, K, alpha, a, lda, B, ldb, beta, C + b * ldc, ldc);
    });
  } else {
    parallel_for(N, [&](int64_t b, int64_t e, int) {
      const float* bb = trans_b ? B + b * ldb : B + b;
      sgemm(trans_a, trans_b, M, int(e - b), K, alpha, A, lda, bb, ldb, beta, C + b, ldc);
    });
  }
}

}  // namespace cnn
