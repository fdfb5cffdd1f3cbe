#pragma once
// Ctrl-C (SIGINT) and SIGTERM during training: the first asks the trainer to stop after the
// current step (it then writes last.safetensors and exits 130); a second one exits at once.
namespace cnn {

void install_interrupt_handlers();
bool interrupt_requested();
void request_interrupt();      // the same as receiving a signal (for tests)
void clear_interrupt();

// Thrown by the trainer after it has saved its state on an interrupt.
struct Interrupted {
  int signal = 2;
};

}  // namespace cnn
