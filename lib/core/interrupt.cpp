#include "core/interrupt.h"

#include <atomic>
#include <csignal>
#include <unistd.h>

namespace cnn {
namespace {
std::atomic<int> g_signal{0};

extern "C" void on_signal(int sig) {
  if (g_signal.exchange(sig) != 0) {
    const char msg[] = "\ninterrupted twice: exiting now\n";
    (void)!write(2, msg, sizeof(msg) - 1);
    _exit(130);
  }
  const char msg[] = "\ninterrupt: finishing the current step, then saving last.safetensors (again to exit now)\n";
  (void)!write(2, msg, sizeof(msg) - 1);
}
}  // namespace

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool interrupt_requested() { return g_signal.load(std::memory_order_relaxed) != 0; }
void request_interrupt() { g_signal.store(SIGINT); }
void clear_interrupt() { g_signal.store(0); }

}  // namespace cnn
