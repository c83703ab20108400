#pragma once
// Explicit execution context: threads travel as a value, never as global state.
#include <algorithm>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

namespace spikeline {

struct ExecContext {
  int threads = 1;  // worker threads for batch-parallel work
  static int hardware_threads() { return std::max(1u, std::thread::hardware_concurrency()); }
};

// Runs fn(task, worker) for task in [0, n_tasks) on up to `threads` workers. Tasks are assigned
// statically (worker w takes w, w + threads, ...) so that a run is reproducible; exceptions from a
// task are rethrown on the calling thread.
void parallel_for(std::size_t n_tasks, int threads,
                  const std::function<void(std::size_t task, int worker)>& fn);

}  // namespace spikeline
