#pragma once
// OpenBLAS (DYNAMIC_ARCH builds, as Debian's) picks its kernels from the CPU model when it is
// loaded; on some virtual CPUs it does not know the model and falls back to its SSE3 kernel
// (Prescott) on a machine with AVX-512. Measured: LeNet-5 training (batch 64, 1 thread) spent 19%
// of a step in Prescott's sgemm, 5% in SkylakeX's.
#include <string>

#include "core/isa.h"

namespace cnn {

// True when OpenBLAS's kernel `core` uses the widest vectors this CPU has that OpenBLAS has
// kernels for (AVX-512 or AVX2), or when the CPU has neither.
bool blas_core_fits_cpu(const std::string& core);

// The vectors OpenBLAS's kernel `core` computes with: AVX-512 (SkylakeX, Cooperlake,
// SapphireRapids), AVX2 (Haswell, Zen, Excavator) or narrower (generic).
Isa blas_core_isa(const std::string& core);

// When OPENBLAS_CORETYPE is unset and the loaded kernel does not fit the CPU, reruns OpenBLAS's
// own kernel selection (gotoblas_dynamic_init) with OPENBLAS_CORETYPE set to SkylakeX (AVX-512)
// or Haswell (AVX2) for the call, and returns the name of the kernel it replaced; otherwise
// changes nothing and returns "". Call once at startup, before any BLAS call. A user's
// OPENBLAS_CORETYPE is always respected.
std::string choose_blas_core();
// What choose_blas_core replaced ("" when it changed nothing), for the banner.
const std::string& blas_core_replaced();

}  // namespace cnn
