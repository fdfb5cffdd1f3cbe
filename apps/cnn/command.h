#pragma once
// Each subcommand registers its flags on the CLI11 app and returns the function that runs it.
#include <CLI/CLI.hpp>
#include <functional>

namespace cnn::cli {

using Run = std::function<int()>;

Run add_train(CLI::App& app);
Run add_eval(CLI::App& app);
Run add_summary(CLI::App& app);
Run add_bench(CLI::App& app);
Run add_predict(CLI::App& app);
Run add_export(CLI::App& app);

// Prints the run banner (and a BLAS warning) to stderr.
void print_banner();

}  // namespace cnn::cli
