// A progress bar for the long admin commands (export, import): one line on
// stderr, redrawn in place, only when stderr is a terminal. On a pipe or a
// log file it writes nothing, so scripts see only the command's own output.
#pragma once

#include <cstddef>
#include <string>

namespace conflux::app {

class ProgressBar {
 public:
  // `label`: what is counted ("exporting contacts"); `total`: how many.
  ProgressBar(std::string label, size_t total);
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  // Ends the line if one was drawn.
  ~ProgressBar();

  void advance(size_t done_now);

 private:
  void draw();

  const std::string label_;
  const size_t total_;
  const bool shown_;  // stderr is a terminal
  size_t done_ = 0;
  int drawn_percent_ = -1;
};

}  // namespace conflux::app
