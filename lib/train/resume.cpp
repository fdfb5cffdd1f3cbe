#include "train/resume.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "config/yaml_util.h"
#include "core/error.h"
#include "optim/schedule.h"
#include "train/checkpoint.h"

namespace cnn {

namespace {

namespace fs = std::filesystem;

// Fields whose change would make the resumed run another run: its weights and optimizer state
// belong to this model, data and batch size, and its shuffling to this seed.
bool refused_on_resume(const std::string& key) {
  static const char* prefixes[] = {"model", "data.dataset", "data.root", "data.batch_size", "data.train_transforms",
                                   "data.train_limit", "data.class_names", "data.channels", "train.seed"};
  for (const char* p : prefixes) {
    const std::string s = p;
    if (key == s || key.rfind(s + ".", 0) == 0) return true;
  }
  return false;
}

// Dotted keys -> scalar values ("train.optimizer.lr", "data.train_transforms.0.random_crop.size").
void flatten(const YAML::Node& n, const std::string& prefix, std::map<std::string, std::string>& out) {
  auto key = [&](const std::string& k) { return prefix.empty() ? k : prefix + "." + k; };
  if (n.IsMap()) {
    for (auto it = n.begin(); it != n.end(); ++it) flatten(it->second, key(it->first.Scalar()), out);
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) flatten(n[i], key(std::to_string(i)), out);
  } else {
    out[prefix] = n.IsScalar() ? n.Scalar() : "~";
  }
}

// A resolved recipe, flattened, with a model given as a file read in (so that a model changed by
// --set model.* is compared layer by layer, not as a path against a mapping).
std::map<std::string, std::string> flat_recipe(const std::string& yaml) {
  std::map<std::string, std::string> out;
  const YAML::Node doc = YAML::Load(yaml);
  flatten(doc, "", out);
  if (doc["model"].IsScalar()) {
    try {
      const YAML::Node model = YAML::LoadFile(doc["model"].Scalar());
      out.erase("model");
      flatten(model, "model", out);
    } catch (const YAML::Exception&) {
      // compared as a path
    }
  }
  return out;
}

std::string shown(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  if (it == m.end()) return "(absent)";
  std::string v = it->second;
  return v.size() > 60 ? v.substr(0, 57) + "..." : v;
}

}  // namespace

std::vector<std::string> recipe_differences(const std::string& old_yaml, const std::string& new_yaml,
                                            std::vector<std::string>* refused) {
  const std::map<std::string, std::string> a = flat_recipe(old_yaml), b = flat_recipe(new_yaml);
  std::map<std::string, int> keys;  // sorted union
  for (const auto& kv : a) keys[kv.first];
  for (const auto& kv : b) keys[kv.first];
  std::vector<std::string> out;
  for (const auto& [k, unused] : keys) {
    (void)unused;
    if (k == "output") continue;  // the run's directory is the checkpoint's
    if (a.count(k) && b.count(k) && a.at(k) == b.at(k)) continue;
    const std::string line = fmt::format("{}: {} -> {}", k, shown(a, k), shown(b, k));
    if (refused && refused_on_resume(k)) refused->push_back(line);
    else out.push_back(line);
  }
  return out;
}

std::string schedule_continuation_note(const TrainSpec& saved, const TrainSpec& now, int64_t step,
                                       int64_t steps_per_epoch) {
  auto lr_saved = [&](int64_t s) {
    return learning_rate(saved.schedule, saved.optimizer.lr, s, steps_per_epoch, saved.epochs);
  };
  auto lr_now = [&](int64_t s) { return learning_rate(now.schedule, now.optimizer.lr, s, steps_per_epoch, now.epochs); };
  // The same lr from here to the end of the shorter run (sampled four times an epoch)?
  bool same = lr_saved(step) == lr_now(step);
  const int64_t end = std::min(saved.epochs, now.epochs) * steps_per_epoch;
  for (int64_t s = step; same && s < end; s += std::max<int64_t>(1, steps_per_epoch / 4)) same = lr_saved(s) == lr_now(s);
  if (same && saved.epochs == now.epochs) return "";
  if (same)
    return fmt::format("note: train.epochs {} -> {}: the {} schedule does not depend on the number of epochs; it "
                       "continues unchanged from step {} (lr {:.4g})",
                       saved.epochs, now.epochs, name_of(now.schedule.type), step, lr_now(step));
  const std::string what =
      saved.epochs != now.epochs
          ? fmt::format("train.epochs {} -> {}: the {} schedule is recomputed over {} epochs ({} steps), not appended",
                        saved.epochs, now.epochs, name_of(now.schedule.type), now.epochs, now.epochs * steps_per_epoch)
          : std::string("the lr schedule differs from the checkpoint's");
  return fmt::format("note: {}: the lr at step {} is {:.4g} (it was {:.4g} under the checkpoint's config; "
                     "docs/config.md, \"Resuming a run\")",
                     what, step, lr_now(step), lr_saved(step));
}

ResumePlan plan_resume(const std::string& resume, const std::string& config, const std::vector<std::string>& sets) {
  ResumePlan plan;
  std::error_code ec;
  plan.checkpoint = fs::is_directory(resume, ec) ? (fs::path(resume) / "last.safetensors").string() : resume;
  if (!fs::exists(plan.checkpoint, ec))
    throw ConfigError(fmt::format("--resume {}: {} not found", resume, plan.checkpoint));
  const CheckpointMeta meta = read_checkpoint_meta(plan.checkpoint);
  if (meta.config.empty())
    throw ConfigError(fmt::format("--resume {}: the file holds no run config (not written by cnn train)",
                                  plan.checkpoint));
  const std::string dir = fs::path(plan.checkpoint).parent_path().string();
  const std::string saved_name = plan.checkpoint + " (its saved config)";
  plan.recipe = config.empty() ? load_recipe_string(meta.config, saved_name, dir.empty() ? "." : dir, sets)
                               : load_recipe_file(config, sets);
  const Recipe saved = load_recipe_string(meta.config, saved_name, dir.empty() ? "." : dir);
  std::vector<std::string> refused;
  plan.overrides = recipe_differences(saved.resolved_yaml, plan.recipe.resolved_yaml, &refused);
  if (!refused.empty()) {
    std::string list;
    for (const auto& r : refused) list += (list.empty() ? "" : "; ") + r;
    throw ConfigError(fmt::format("--resume {}: these fields differ from the run's own config and cannot change on "
                                  "resume (start a new run instead): {}",
                                  plan.checkpoint, list));
  }
  plan.recipe.output = dir.empty() ? "." : dir;
  return plan;
}

}  // namespace cnn
