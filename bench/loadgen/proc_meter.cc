#include "proc_meter.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace conflux::loadgen {
namespace {

// Fields of /proc/PID/stat after the command name: index 0 is field 3
// (state) of proc(5); the name may contain spaces, hence the last ')'.
std::vector<std::string> stat_fields(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> fields;
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return fields;
  std::istringstream rest(text.substr(close + 2));
  for (std::string f; rest >> f;) fields.push_back(f);
  return fields;
}

// "VmHWM:   1234 kB" → 1234; 0 when the process or line is gone.
uint64_t status_kb(int pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + ":", 0) == 0) return std::stoull(line.substr(key.size() + 1));
  }
  return 0;
}

// Resets VmHWM to the current RSS (clear_refs value 5, Linux >= 4.0).
void reset_peak(int pid) { std::ofstream("/proc/" + std::to_string(pid) + "/clear_refs") << "5"; }

double ticks_to_seconds(uint64_t ticks) {
  return static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

ProcMeter::ProcMeter(int pid, MeterScope scope) : pid_(pid), scope_(scope) {}

ProcMeter::~ProcMeter() {
  running_ = false;
  if (sampler_.joinable()) sampler_.join();
}

std::vector<int> ProcMeter::members() const {
  if (scope_ == MeterScope::kProcess) return {pid_};
  std::multimap<int, int> children;  // ppid -> pid
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto f = stat_fields(std::stoi(name));
    if (f.size() > 1) children.emplace(std::stoi(f[1]), std::stoi(name));
  }
  std::vector<int> out;
  std::vector<int> todo = {pid_};
  while (!todo.empty()) {
    const int pid = todo.back();
    todo.pop_back();
    auto [b, e] = children.equal_range(pid);
    for (auto it = b; it != e; ++it) {
      out.push_back(it->second);
      todo.push_back(it->second);
    }
  }
  return out;
}

double ProcMeter::cpu_seconds() const {
  // utime, stime, cutime, cstime are fields 14-17 (indexes 11-14 here). The
  // root of a tree counts only with what it reaped: its descendants' CPU.
  uint64_t ticks = 0;
  auto add = [&](int pid, size_t from) {
    const auto f = stat_fields(pid);
    for (size_t i = from; i < 15 && i < f.size(); ++i) ticks += std::stoull(f[i]);
  };
  if (scope_ == MeterScope::kProcess) {
    add(pid_, 11);
  } else {
    add(pid_, 13);
    for (int pid : members()) add(pid, 11);
  }
  return ticks_to_seconds(ticks);
}

uint64_t ProcMeter::rss_now_kb() const {
  uint64_t kb = 0;
  for (int pid : members()) kb += status_kb(pid, "VmRSS");
  return kb;
}

void ProcMeter::sample() {
  // A process's own peak is exact (VmHWM). A tree's is the largest sum of
  // its members' RSS at one sample: summing each member's VmHWM instead
  // would add up helpers that never ran at the same time.
  uint64_t kb = 0;
  if (scope_ == MeterScope::kProcess) {
    kb = status_kb(pid_, "VmHWM");
  } else {
    kb = rss_now_kb();
  }
  std::lock_guard lock(mutex_);
  peak_rss_kb_ = std::max(peak_rss_kb_, kb);
}

void ProcMeter::start() {
  usage_ = PhaseUsage{};
  peak_rss_kb_ = 0;
  if (scope_ == MeterScope::kProcess) reset_peak(pid_);
  usage_.rss_before_kb = rss_now_kb();
  usage_.cpu_seconds = cpu_seconds();
  sample();
  running_ = true;
  sampler_ = std::thread([this] {
    while (running_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      sample();
    }
  });
}

PhaseUsage ProcMeter::stop() {
  running_ = false;
  if (sampler_.joinable()) sampler_.join();
  sample();
  usage_.cpu_seconds = cpu_seconds() - usage_.cpu_seconds;
  usage_.rss_after_kb = rss_now_kb();
  usage_.peak_rss_kb = peak_rss_kb_;
  return usage_;
}

}  // namespace conflux::loadgen
