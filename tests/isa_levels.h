#pragma once
// Runs a test body once per instruction-set level this CPU has (generic, avx2, avx512), with
// the engine's kernels limited to that level (core/isa.h), so every ISA path is tested on
// the machine the tests run on. Levels the CPU lacks are named in the output as skipped.
#include <catch2/catch.hpp>

#include "core/isa.h"

namespace cnn::test {

struct IsaOverride {
  explicit IsaOverride(Isa isa) { set_isa_override(isa); }
  ~IsaOverride() { set_isa_override(Isa::avx512); }
  IsaOverride(const IsaOverride&) = delete;
  IsaOverride& operator=(const IsaOverride&) = delete;
};

template <class Body>
void for_each_isa(Body&& body) {
  for (Isa isa : {Isa::generic, Isa::avx2, Isa::avx512}) {
    if (static_cast<int>(isa) > static_cast<int>(cpu_isa())) {
      WARN("skipped: ISA level " << isa_name(isa) << " (this CPU lacks it)");
      continue;
    }
    IsaOverride guard(isa);
    INFO("ISA level " << isa_name(isa));
    body();
  }
}

}  // namespace cnn::test
