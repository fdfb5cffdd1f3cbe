// OpenBLAS's kernel chosen for this CPU (core/blas_core.h): a kernel narrower than the CPU is
// replaced, the environment is left as it was, and GEMMs still compute the product.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <vector>

#include "core/blas_core.h"
#include "core/isa.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "kernels/gemm.h"
#include "skip.h"

using namespace cnn;

TEST_CASE("blas core: which OpenBLAS kernels fit this CPU") {
  if (cpu_isa() == Isa::generic) {
    WARN("skipped: this CPU has neither AVX2 nor AVX-512, every kernel fits");
    CHECK(blas_core_fits_cpu("Prescott"));
    return;
  }
  CHECK_FALSE(blas_core_fits_cpu("Prescott"));
  CHECK_FALSE(blas_core_fits_cpu("Sandybridge"));
  CHECK(blas_core_fits_cpu(cpu_isa() == Isa::avx512 ? "SkylakeX" : "Haswell"));
  CHECK(blas_core_fits_cpu("Zen"));
  if (cpu_isa() == Isa::avx512) CHECK_FALSE(blas_core_fits_cpu("Haswell"));
}

TEST_CASE("blas core: the vectors each OpenBLAS kernel computes with") {
  CHECK(blas_core_isa("SkylakeX") == Isa::avx512);
  CHECK(blas_core_isa("Cooperlake") == Isa::avx512);
  CHECK(blas_core_isa("Haswell") == Isa::avx2);
  CHECK(blas_core_isa("Zen") == Isa::avx2);
  CHECK(blas_core_isa("Sandybridge") == Isa::generic);
  CHECK(blas_core_isa("Prescott") == Isa::generic);
}

TEST_CASE("blas core: choose_blas_core leaves a kernel that fits, the environment unchanged and GEMMs exact") {
  if (std::getenv("OPENBLAS_CORETYPE")) skip_test("OPENBLAS_CORETYPE is set in the environment (a user's choice is kept)");
  const std::string replaced = choose_blas_core();
  INFO("OpenBLAS kernel " << blas_core_name() << ", replaced: '" << replaced << "'");
  CHECK(std::getenv("OPENBLAS_CORETYPE") == nullptr);
  if (replaced.empty() && !blas_core_fits_cpu(blas_core_name()))
    WARN("skipped: this OpenBLAS cannot switch kernels (not a DYNAMIC_ARCH build)");
  else
    CHECK(blas_core_fits_cpu(blas_core_name()));
  CHECK(choose_blas_core().empty());  // once is enough
  const int M = 37, N = 29, K = 41;
  Rng rng(3);
  std::vector<float> A(M * K), B(K * N), C(M * N);
  for (auto& v : A) v = rng.uniform(-1.f, 1.f);
  for (auto& v : B) v = rng.uniform(-1.f, 1.f);
  sgemm(false, false, M, N, K, 1.f, A.data(), K, B.data(), N, 0.f, C.data(), N);
  int bad = 0;
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double want = 0;
      for (int k = 0; k < K; ++k) want += double(A[i * K + k]) * B[k * N + j];
      bad += !(std::abs(C[i * N + j] - want) <= 1e-5 * (1 + std::abs(want)));
    }
  CHECK(bad == 0);
}
