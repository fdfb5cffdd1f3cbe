#include "kernels/gemm.h"

#include <cblas.h>

#include "core/parallel.h"

namespace cnn {

void sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc) {
  if (M <= 0 || N <= 0) return;
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
