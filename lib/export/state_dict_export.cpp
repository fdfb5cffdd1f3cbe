#include "export/state_dict_export.h"

#include <vector>

#include "io/safetensors.h"

namespace cnn {

void export_state_dict(const Net& net, const std::string& path, const std::map<std::string, std::string>& metadata) {
  std::vector<NamedTensor> tensors;
  for (const auto& p : net.params()) tensors.push_back({p.name, &p.param->value});
  for (const auto& b : net.buffers()) {
    const bool count = b.name.size() >= 20 && b.name.compare(b.name.size() - 20, 20, ".num_batches_tracked") == 0;
    tensors.push_back({b.name, &b.buffer->value, count || b.name == "num_batches_tracked"});
  }
  std::map<std::string, std::string> meta = metadata;
  meta.emplace("format", "pt");
  write_safetensors(path, tensors, meta);
}

}  // namespace cnn
