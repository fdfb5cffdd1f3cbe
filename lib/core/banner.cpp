#include "core/banner.h"

#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "core/blas_core.h"
#include "core/isa.h"
#include "core/parallel.h"

namespace cnn {

std::string run_banner() {
  std::string cfg = blas_config();
  // "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64" -> "OpenBLAS 0.3.21"
  std::string lib = cfg.substr(0, cfg.find(' ', cfg.find(' ') + 1));
  const std::string& replaced = blas_core_replaced();
  return fmt::format("cnn {} | threads {} | kernels {} | {} kernel {}{} | {} build", CNN_VERSION, num_threads(),
                     isa_name(active_isa()), lib, blas_core_name(),
                     replaced.empty() ? "" : fmt::format(" (chosen by cnn: OpenBLAS detected {})", replaced),
                     CNN_BUILD_TYPE);
}

std::string blas_kernel_warning() {
  const std::string core = blas_core_name();
  if (blas_core_fits_cpu(core)) return "";
  const char* forced = std::getenv("OPENBLAS_CORETYPE");
  return fmt::format("warning: OpenBLAS runs its {} kernel{} but this CPU supports {} (unset OPENBLAS_CORETYPE "
                     "or set it to {} for faster GEMMs)",
                     core, forced ? fmt::format(" (OPENBLAS_CORETYPE={})", forced) : "",
                     cpu_isa() == Isa::avx512 ? "AVX-512" : "AVX2", cpu_isa() == Isa::avx512 ? "SkylakeX" : "Haswell");
}

}  // namespace cnn
