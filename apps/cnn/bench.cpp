#include <fmt/format.h>

#include <string>

#include <nlohmann/json.hpp>

#include "command.h"
#include "config/any_config.h"
#include "core/banner.h"
#include "core/parallel.h"
#include "core/round_trip.h"
#include "config/recipe.h"
#include "data/loader_bench.h"
#include "graph/net.h"
#include "kernels/fma_peak.h"
#include "core/error.h"
#include "train/bench.h"

namespace cnn::cli {
namespace {

std::string round_trip_line(double ns) {
  return fmt::format("cross-CPU round trip: {:.0f} ns (a cache line to another thread and back)\n", ns);
}

int print_peak(bool json) {
  const Isa isa = active_isa();
  const double one = fma_peak_gflops_one_thread(isa, 1.0), all = fma_peak_gflops(isa, 1.0);
  const double trip = cross_thread_round_trip_ns();
  if (json) {
    fmt::print("{}\n", nlohmann::json{{"isa", isa_name(isa)}, {"threads", num_threads()},
                                      {"gflops_one_thread", one}, {"gflops", all}, {"round_trip_ns", trip}}.dump());
    return 0;
  }
  print_banner();
  fmt::print("FMA peak ({}): {:.1f} GFLOP/s on one thread, {:.1f} GFLOP/s on {} threads\n", isa_name(isa), one, all,
             num_threads());
  fmt::print("{}", round_trip_line(trip));
  return 0;
}

int print_round_trip(bool json) {
  const double trip = cross_thread_round_trip_ns();
  if (json) fmt::print("{}\n", nlohmann::json{{"round_trip_ns", trip}}.dump());
  else fmt::print("{}", round_trip_line(trip));
  return 0;
}

}  // namespace

Run add_bench(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "images/s and per-layer time on synthetic data (like `caffe time`)");
  struct Opts {
    std::string config;
    std::vector<std::string> sets;
    BenchOptions bench;
    bool json = false, layers = false, data = false, peak = false, round_trip = false;
    int64_t epochs = 3;
  };
  auto o = std::make_shared<Opts>();
  auto* config = cmd->add_option("--config,-c", o->config, "model or recipe YAML");
  cmd->add_flag("--peak", o->peak,
                "measure this machine's FMA peak (GFLOP/s) at the active ISA, one thread and all threads");
  cmd->add_flag("--round-trip", o->round_trip,
                "measure how long a cache line takes to reach another CPU and come back (ns; also in --peak): "
                "the host's slow phases raise it");
  cmd->add_option("--batch", o->bench.batch, "batch size")->check(whole_number_at_least(1));
  cmd->add_flag("--train", o->bench.train, "time a training step (forward, loss, backward, SGD) instead of inference");
  auto* iters = cmd->add_option("--iters", o->bench.iters, "timed iterations (default 20, or 1 with --min-seconds)")
                    ->check(whole_number_at_least(1));
  cmd->add_option("--warmup", o->bench.warmup, "untimed iterations first")->check(whole_number_at_least(0));
  cmd->add_option("--min-seconds", o->bench.min_seconds, "time at least this long (and at least --iters iterations)");
  add_set_option(cmd, o->sets);
  cmd->add_flag("--layers", o->layers, "print per-layer forward/backward time");
  cmd->add_flag("--json", o->json, "machine-readable output");
  cmd->add_flag("--data", o->data,
                "time the recipe's training data path instead (read, decode, transforms, batches; data.workers "
                "threads): images/s over whole epochs after one warm-up epoch");
  cmd->add_option("--epochs", o->epochs, "--data: timed epochs (at least; --min-seconds also applies)")
      ->check(whole_number_at_least(1));
  return [o, config, iters] {
    if (o->peak) return print_peak(o->json);
    if (o->round_trip) return print_round_trip(o->json);
    if (config->empty()) throw ConfigError("bench: --config is required (or --peak, --round-trip)");
    if (o->bench.min_seconds > 0 && iters->count() == 0) o->bench.iters = 1;  // the duration decides
    if (o->data) {
      const Recipe recipe = load_recipe_file(o->config, o->sets);
      const LoaderBenchResult r = bench_loader(recipe, o->epochs, o->bench.min_seconds);
      if (o->json) {
        nlohmann::json j{{"dataset", name_of(recipe.data.dataset)}, {"batch", recipe.data.batch_size},
                         {"workers", recipe.data.workers}, {"threads", num_threads()},
                         {"images", r.images},          {"epochs", r.epochs},
                         {"seconds", r.seconds},        {"images_per_s", r.images_per_s},
                         {"skipped", r.skipped}};
        fmt::print("{}\n", j.dump());
        return 0;
      }
      print_banner();
      fmt::print("{} training data, batch {}, {} workers: {:.1f} images/s ({} images in {} epochs, {:.2f} s{})\n",
                 name_of(recipe.data.dataset), recipe.data.batch_size, recipe.data.workers, r.images_per_s, r.images, r.epochs,
                 r.seconds, r.skipped ? fmt::format(", {} unreadable skipped", r.skipped) : "");
      return 0;
    }
    ModelSpec spec = load_model_or_recipe(o->config, o->sets);
    Net net(spec);
    o->bench.per_layer = o->layers;
    BenchResult r = run_bench(net, o->bench);
    if (o->json) {
      nlohmann::json layers = nlohmann::json::array();
      for (const auto& l : r.layers)
        layers.push_back({{"name", l.name}, {"type", l.type}, {"kernel", l.kernel}, {"forward_ms", l.forward_ms}, {"backward_ms", l.backward_ms}});
      nlohmann::json j{{"model", spec.name},       {"batch", o->bench.batch},  {"train", o->bench.train},
                       {"threads", num_threads()}, {"iters", r.iters},         {"seconds", r.seconds},
                       {"images_per_s", r.images_per_s}, {"ms_per_iter", r.ms_per_iter}, {"blas_core", blas_core_name()},
                       {"layers", layers}};
      fmt::print("{}\n", j.dump());
      return 0;
    }
    print_banner();
    fmt::print("{} {} batch {}: {:.1f} images/s, {:.2f} ms per iteration ({} iterations)\n", spec.name,
               o->bench.train ? "train" : "inference", o->bench.batch, r.images_per_s, r.ms_per_iter, r.iters);
    if (o->layers) {
      size_t w = 5;
      for (const auto& l : r.layers) w = std::max(w, l.name.size());
      fmt::print("{:<{}}  {:<10}  {:<14}  {:>10}  {:>10}\n", "layer", w, "type", "kernel", "fwd ms", "bwd ms");
      double f = 0, b = 0;
      for (const auto& l : r.layers) {
        fmt::print("{:<{}}  {:<10}  {:<14}  {:>10.3f}  {:>10.3f}\n", l.name, w, l.type, l.kernel, l.forward_ms,
                   l.backward_ms);
        f += l.forward_ms;
        b += l.backward_ms;
      }
      fmt::print("{:<{}}  {:<10}  {:<14}  {:>10.3f}  {:>10.3f}\n", "total", w, "", "", f, b);
    }
    return 0;
  };
}

}  // namespace cnn::cli
