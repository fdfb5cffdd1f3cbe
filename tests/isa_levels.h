#pragma once
// Runs a test body once per instruction-set level this CPU has (generic, avx2, avx512), with
// the engine's kernels limited to that level (core/isa.h), so every ISA path is tested on
// the machine the tests run on. Levels the CPU lacks are named in the output as skipped.
#include <catch2/catch.hpp>

#include "core/isa.h"
#include "skip.h"

namespace cnn::test {

struct IsaOverride {
  explicit IsaOverride(Isa isa) { set_isa_override(isa); }
  ~IsaOverride() { set_isa_override(Isa::avx512); }
  IsaOverride(const IsaOverride&) = delete;
  IsaOverride& operator=(const IsaOverride&) = delete;
};

// Skips the whole test case (skip.h) on a CPU without `isa`.
inline void skip_unless_cpu_has(Isa isa) {
  if (static_cast<int>(cpu_isa()) < static_cast<int>(isa))
    skip_test(std::string("this CPU has no ") + std::string(isa_name(isa)));
}

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
