#include "cli/progress.h"

#include <unistd.h>

#include <iostream>

namespace conflux::app {

namespace {
constexpr int kBarWidth = 30;
}

ProgressBar::ProgressBar(std::string label, size_t total)
    : label_(std::move(label)), total_(total), shown_(isatty(STDERR_FILENO) == 1) {
  draw();
}

ProgressBar::~ProgressBar() {
  if (shown_) std::cerr << "\n" << std::flush;
}

void ProgressBar::advance(size_t done_now) {
  done_ += done_now;
  draw();
}

void ProgressBar::draw() {
  if (!shown_) return;
  const int percent = total_ == 0 ? 100 : static_cast<int>(done_ * 100 / total_);
  if (percent == drawn_percent_) return;  // a redraw per percent, not per item
  drawn_percent_ = percent;
  const int filled = percent * kBarWidth / 100;
  std::cerr << "\r" << label_ << " [" << std::string(filled, '#') << std::string(kBarWidth - filled, '.') << "] "
            << done_ << "/" << total_ << std::flush;
}

}  // namespace conflux::app
