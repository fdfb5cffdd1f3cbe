// cnn: train, evaluate, summarize and export convolutional networks on the CPU.
// Exit codes: 0 success, 2 bad usage or config, 1 runtime failure.
#include <cstdio>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "command.h"
#include "core/banner.h"
#include "core/blas_core.h"
#include "core/error.h"
#include "core/parallel.h"
#include "dist/comm.h"

namespace cnn::cli {
void print_banner() {
  fmt::print(stderr, "{}\n", run_banner());
  std::string w = blas_kernel_warning();
  if (!w.empty()) fmt::print(stderr, "{}\n", w);
}
}  // namespace cnn::cli

namespace {

// Data-parallel runs (mpirun/srun): an error names the rank and ends the whole job, so that no
// other rank waits for it.
int fail(const std::exception& e, int code) {
  if (!cnn::dist::active()) {
    fmt::print(stderr, "error: {}\n", e.what());
    return code;
  }
  fmt::print(stderr, "error: rank {}: {}\n", cnn::dist::rank(), e.what());
  cnn::dist::abort_job(code);
}

// --threads is per rank; by default the cores of a machine are shared by the ranks on it.
int default_threads(int threads) {
  if (threads > 0 || cnn::dist::local_size() <= 1) return threads;
  return std::max(1, int(std::thread::hardware_concurrency()) / cnn::dist::local_size());
}

}  // namespace

int main(int argc, char** argv) {
  cnn::choose_blas_core();  // before any BLAS call
  std::unique_ptr<cnn::dist::Session> mpi;
  try {
    mpi = std::make_unique<cnn::dist::Session>(argc, argv);
  } catch (const cnn::ConfigError& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  }
  CLI::App app{"cnn: train, evaluate, summarize and export convolutional networks on the CPU", "cnn"};
  app.require_subcommand(1);
  app.fallthrough();
  int threads = 0;
  app.add_option("--threads", threads,
                 "threads for all parallel work, per rank under mpirun (default: all cores, shared by the ranks)")->check(cnn::cli::whole_number_at_least(0));
  app.set_version_flag("--version", std::string("cnn ") + CNN_VERSION);

  std::map<CLI::App*, cnn::cli::Run> runs;
  for (auto add : {cnn::cli::add_train, cnn::cli::add_eval, cnn::cli::add_summary, cnn::cli::add_bench, cnn::cli::add_predict,
                    cnn::cli::add_export, cnn::cli::add_explain, cnn::cli::add_report}) {
    cnn::cli::Run run = add(app);
    runs[app.get_subcommands({}).back()] = run;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::CallForVersion&) {
    std::puts(app.version().c_str());
    return 0;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    fmt::print(stderr, "error: {}\nrun 'cnn --help' for usage\n", e.what());
    return 2;
  }

  try {
    cnn::set_num_threads(default_threads(threads));
    for (auto* sub : app.get_subcommands()) {
      if (cnn::dist::active() && sub->get_name() != "train")
        throw cnn::ConfigError("only 'cnn train' runs on several ranks (started by mpirun or srun); run '" +
                               sub->get_name() + "' as one process");
      if (runs.count(sub)) return runs[sub]();
    }
    return 2;
  } catch (const cnn::ConfigError& e) {
    return fail(e, 2);
  } catch (const std::exception& e) {
    return fail(e, 1);
  }
}
