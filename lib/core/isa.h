#pragma once
// Instruction-set levels the engine has kernels for, chosen at run time: the CPU's best level,
// lowered by CNN_ISA=avx2|avx512|generic (or set_isa_override, for tests and --isa). Shared code is
// compiled for the x86-64 baseline; ISA-specific kernels live in *_avx2.cpp / *_avx512.cpp files
// compiled with their own flags and are only called when active_isa() allows them.
#include <string>
#include <string_view>

namespace cnn {

enum class Isa { generic = 0, avx2 = 1, avx512 = 2 };

std::string_view isa_name(Isa isa);
// Parses "generic" | "avx2" | "avx512"; returns false for anything else.
bool parse_isa(std::string_view name, Isa& out);

Isa cpu_isa();     // what this CPU supports (AVX2 needs FMA too; AVX-512 needs F, BW, DQ, VL)
Isa active_isa();  // min(cpu_isa(), CNN_ISA from the environment, override)
// Lowers (never raises) the level kernels may use; pass cpu_isa() to undo. Not thread-safe:
// call before running a net.
void set_isa_override(Isa isa);
// Whether kernels of `isa` may run now.
inline bool isa_enabled(Isa isa) { return static_cast<int>(isa) <= static_cast<int>(active_isa()); }

}  // namespace cnn
