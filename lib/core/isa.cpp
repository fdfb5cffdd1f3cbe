#include "core/isa.h"

#include <algorithm>
#include <cstdlib>

#include "core/error.h"

namespace cnn {

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx512: return "avx512";
    case Isa::avx2: return "avx2";
    case Isa::generic: break;
  }
  return "generic";
}

bool parse_isa(std::string_view name, Isa& out) {
  for (Isa i : {Isa::generic, Isa::avx2, Isa::avx512})
    if (name == isa_name(i)) {
      out = i;
      return true;
    }
  return false;
}

Isa cpu_isa() {
#if defined(__x86_64__)
  static const Isa detected = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
      return Isa::avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::avx2;
    return Isa::generic;
  }();
  return detected;
#else
  return Isa::generic;
#endif
}

namespace {

Isa env_isa() {
  static const Isa from_env = [] {
    const char* s = std::getenv("CNN_ISA");
    if (!s || !*s) return Isa::avx512;
    Isa i;
    if (!parse_isa(s, i))
      throw ConfigError(std::string("CNN_ISA: expected generic, avx2 or avx512, got '") + s + "'");
    return i;
  }();
  return from_env;
}

Isa& override_isa() {
  static Isa o = Isa::avx512;
  return o;
}

Isa lowest(Isa a, Isa b) { return static_cast<int>(a) < static_cast<int>(b) ? a : b; }

}  // namespace

Isa active_isa() { return lowest(lowest(cpu_isa(), env_isa()), override_isa()); }

void set_isa_override(Isa isa) { override_isa() = isa; }

}  // namespace cnn
