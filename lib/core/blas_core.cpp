#include "core/blas_core.h"

#include <cstdlib>

#include "core/isa.h"
#include "core/parallel.h"

// Exported by OpenBLAS builds with DYNAMIC_ARCH only: weak, so other builds link and keep their kernel.
extern "C" {
void gotoblas_dynamic_init(void) __attribute__((weak));
void gotoblas_dynamic_quit(void) __attribute__((weak));
}

namespace cnn {
namespace {

bool names_one_of(const std::string& core, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (core.find(n) != std::string::npos) return true;
  return false;
}

std::string replaced;

// The kernel to ask for on this CPU, or nullptr.
const char* wanted_core(const std::string& core) {
  if (blas_core_fits_cpu(core)) return nullptr;
  return cpu_isa() == Isa::avx512 ? "SkylakeX" : "Haswell";
}

}  // namespace

Isa blas_core_isa(const std::string& core) {
  if (names_one_of(core, {"SkylakeX", "Cooperlake", "SapphireRapids"})) return Isa::avx512;
  if (names_one_of(core, {"Haswell", "Zen", "Excavator"})) return Isa::avx2;
  return Isa::generic;
}

bool blas_core_fits_cpu(const std::string& core) {
  const Isa isa = blas_core_isa(core);
  // Zen: OpenBLAS 0.3.21 names every Zen generation so (AVX2 kernels, the best it has for them).
  if (cpu_isa() == Isa::avx512) return isa == Isa::avx512 || names_one_of(core, {"Zen"});
  return static_cast<int>(isa) >= static_cast<int>(cpu_isa());
}

std::string choose_blas_core() {
  if (std::getenv("OPENBLAS_CORETYPE") || !gotoblas_dynamic_init || !gotoblas_dynamic_quit) return "";
  const std::string before = blas_core_name();
  const char* want = wanted_core(before);
  if (!want) return "";
  setenv("OPENBLAS_CORETYPE", want, 1);
  gotoblas_dynamic_quit();
  gotoblas_dynamic_init();
  unsetenv("OPENBLAS_CORETYPE");  // the environment stays as the user gave it (child processes)
  replaced = before;
  return before;
}

const std::string& blas_core_replaced() { return replaced; }

}  // namespace cnn
