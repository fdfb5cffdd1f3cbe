#include "core/banner.h"

#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "core/parallel.h"
#include "core/isa.h"

namespace cnn {

std::string run_banner() {
  std::string cfg = blas_config();
  // "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64" -> "OpenBLAS 0.3.21"
  std::string lib = cfg.substr(0, cfg.find(' ', cfg.find(' ') + 1));
  return fmt::format("cnn {} | threads {} | kernels {} | {} kernel {} | {} build", CNN_VERSION, num_threads(),
                     isa_name(active_isa()), lib, blas_core_name(), CNN_BUILD_TYPE);
}

std::string blas_kernel_warning() {
  std::string core = blas_core_name();
#if defined(__x86_64__)
  const bool avx512 = __builtin_cpu_supports("avx512f");
  const bool avx512_core = core.find("SkylakeX") != std::string::npos || core.find("Cooperlake") != std::string::npos ||
                           core.find("SapphireRapids") != std::string::npos || core.find("Zen") != std::string::npos;
  if (avx512 && !avx512_core) {
    const char* forced = std::getenv("OPENBLAS_CORETYPE");
    return fmt::format("warning: OpenBLAS runs its {} kernel{} but this CPU supports AVX-512 (unset OPENBLAS_CORETYPE "
                       "or set it to SkylakeX for faster GEMMs)",
                       core, forced ? fmt::format(" (OPENBLAS_CORETYPE={})", forced) : "");
  }
#endif
  return "";
}

}  // namespace cnn
