#include "graph/memory_plan.h"

#include <fmt/format.h>

#include "core/memory_budget.h"

namespace cnn {

void MemoryPlan::add_node(const std::vector<Param*>& params, const std::vector<Buffer*>& buffers, const Shape& out,
                          const std::string& node) {
  for (const Param* p : params) param_bytes_ += 2.0 * double(p->value.numel()) * sizeof(float);  // value + grad
  for (const Buffer* b : buffers) param_bytes_ += double(b->value.numel()) * sizeof(float);
  // Training keeps every output; gradients share buffers (Net::planned_memory, checked in full
  // before the buffers are allocated).
  activation_bytes_ += double(numel_of(out)) * sizeof(float);
  check_memory_budget(param_bytes_ + activation_bytes_,
                      fmt::format("model '{}' at batch {} up to layer '{}' (parameters with gradients {}, activations "
                                  "{})",
                                  model_, batch_, node, format_bytes(param_bytes_), format_bytes(activation_bytes_)));
}

}  // namespace cnn
