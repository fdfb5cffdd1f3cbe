// sgemm / sgemm_parallel against a direct triple loop in double.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "core/parallel.h"
#include "../thread_guard.h"
#include "core/rng.h"
#include "kernels/gemm.h"

using namespace cnn;
using cnn::test::ThreadGuard;

namespace {

// C = alpha * op(A) * op(B) + beta * C, row-major, with leading dimensions.
void ref_gemm(bool ta, bool tb, int M, int N, int K, float alpha, const std::vector<float>& A, int lda,
              const std::vector<float>& B, int ldb, float beta, std::vector<float>& C, int ldc) {
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double s = 0;
      for (int k = 0; k < K; ++k) {
        double a = ta ? A[size_t(k) * lda + i] : A[size_t(i) * lda + k];
        double b = tb ? B[size_t(j) * ldb + k] : B[size_t(k) * ldb + j];
        s += a * b;
      }
      double c = C[size_t(i) * ldc + j];
      C[size_t(i) * ldc + j] = float(alpha * s + (beta == 0.f ? 0.0 : beta * c));
    }
}

std::vector<float> rand_vec(size_t n, Rng& rng) {
  std::vector<float> v(n);
  for (auto& x : v) x = rng.uniform(-1.f, 1.f);
  return v;
}

void run_case(bool parallel, bool ta, bool tb, int M, int N, int K, float alpha, float beta, int pad_a, int pad_b,
              int pad_c, uint64_t seed) {
  Rng rng(seed);
  const int lda = (ta ? M : K) + pad_a, ldb = (tb ? K : N) + pad_b, ldc = N + pad_c;
  const int rows_a = ta ? K : M, rows_b = tb ? N : K;
  auto A = rand_vec(size_t(rows_a) * lda, rng);
  auto B = rand_vec(size_t(rows_b) * ldb, rng);
  auto C = rand_vec(size_t(M) * ldc, rng);
  auto ref = C;
  ref_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, ref, ldc);
  if (parallel)
    sgemm_parallel(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
  else
    sgemm(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
  INFO("ta=" << ta << " tb=" << tb << " M=" << M << " N=" << N << " K=" << K << " ldc=" << ldc
             << " parallel=" << parallel);
  const float tol = 1e-5f * float(K) + 1e-5f;
  int bad = 0;
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < ldc; ++j) {
      size_t at = size_t(i) * ldc + j;
      if (j >= N) {
        // Padding columns of C are never touched.
        if (C[at] != ref[at]) ++bad;
      } else if (!(std::fabs(C[at] - ref[at]) <= tol * (1 + std::fabs(ref[at])))) {
        ++bad;
      }
    }
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("sgemm: all transpose combinations with ld > row length", "[kernels][gemm]") {
  uint64_t seed = 1;
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      run_case(false, ta, tb, 7, 5, 3, 1.f, 0.f, 0, 0, 0, seed++);
      run_case(false, ta, tb, 13, 9, 17, 1.f, 0.f, 2, 3, 4, seed++);  // ldc > N
      run_case(false, ta, tb, 1, 1, 1, 1.f, 0.f, 0, 0, 5, seed++);
      run_case(false, ta, tb, 6, 11, 4, 0.5f, 1.f, 1, 0, 3, seed++);  // beta = 1 accumulates
      run_case(false, ta, tb, 5, 4, 9, -2.f, 0.25f, 0, 2, 1, seed++);
    }
}

TEST_CASE("sgemm: one or two rows of C (one SGEMV per row), every transpose, ld > row length", "[kernels][gemm]") {
  uint64_t seed = 50;
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (int M : {1, 2}) {
        run_case(false, ta, tb, M, 37, 29, 1.f, 0.f, 3, 2, 4, seed++);
        run_case(false, ta, tb, M, 8, 300, -0.5f, 1.f, 1, 5, 0, seed++);
        run_case(false, ta, tb, M, 19, 7, 2.f, 0.25f, 0, 0, 3, seed++);
      }
  // beta = 0 on this path too: C's NaN never reaches the result.
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      std::vector<float> A{1, 2}, B{1, 2, 3, 4}, C(2, std::nanf(""));
      sgemm(ta, tb, 1, 2, 2, 1.f, A.data(), ta ? 1 : 2, B.data(), 2, 0.f, C.data(), 2);
      CHECK(C == (tb ? std::vector<float>{5, 11} : std::vector<float>{7, 10}));
    }
}

TEST_CASE("sgemm: beta = 0 ignores NaN in C, M or N = 0 is a no-op", "[kernels][gemm]") {
  std::vector<float> A{1, 2, 3, 4}, B{1, 0, 0, 1};
  std::vector<float> C(4, std::nanf(""));
  sgemm(false, false, 2, 2, 2, 1.f, A.data(), 2, B.data(), 2, 0.f, C.data(), 2);
  CHECK(C == std::vector<float>{1, 2, 3, 4});
  std::vector<float> D{7};
  sgemm(false, false, 0, 1, 2, 1.f, A.data(), 2, B.data(), 1, 0.f, D.data(), 1);
  sgemm(false, false, 1, 0, 2, 1.f, A.data(), 2, B.data(), 1, 0.f, D.data(), 1);
  CHECK(D[0] == 7.f);
}

TEST_CASE("sgemm_parallel: splits rows or columns, matches the reference", "[kernels][gemm]") {
  for (int threads : {1, 2, 3}) {
    ThreadGuard tg(threads);
    uint64_t seed = 100;
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb) {
        // Large enough (M*N*K >= 2^18) to be split; M >= N splits rows, M < N splits columns.
        run_case(true, ta, tb, 97, 45, 64, 1.f, 0.f, 1, 2, 3, seed++);
        run_case(true, ta, tb, 23, 131, 96, 1.f, 1.f, 0, 1, 5, seed++);
        // Fewer rows than threads.
        run_case(true, ta, tb, 2, 600, 256, 1.f, 0.5f, 0, 0, 1, seed++);
        // Small: runs inline.
        run_case(true, ta, tb, 5, 3, 4, 1.f, 0.f, 0, 0, 2, seed++);
      }
  }
}
