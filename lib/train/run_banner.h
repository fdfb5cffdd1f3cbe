#pragma once
// The banner (version, threads, kernels, machine) of each process that trained a run, kept in the
// run directory, so that a later `cnn report` on another machine shows where the run was trained
// and not only where the report was made.
#include <string>

namespace cnn {

inline constexpr const char* kRunBannerFile = "banner.txt";

// Writes run_banner() to <run_dir>/banner.txt; `resumed`: appended to the lines already there as
// "resumed: <banner>" (each process of a run, in order).
void write_run_banner(const std::string& run_dir, bool resumed);

// The lines of <run_dir>/banner.txt, or "" when the run has none (written before it was recorded).
std::string read_run_banner(const std::string& run_dir);

}  // namespace cnn
