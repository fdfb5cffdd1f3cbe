#pragma once
// Row-major single-precision GEMM through cblas (OpenBLAS, one thread: the engine's own pool
// splits the work). C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C.
namespace cnn {

void sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc);

// The same, split over row blocks of C across the thread pool (for a single large GEMM).
void sgemm_parallel(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A,
                    int lda, const float* B, int ldb, float beta, float* C, int ldc);

}  // namespace cnn
