#pragma once
// k-class task search: every k-combination of the classes of a distance matrix is scored by the
// sum of its k (k - 1) / 2 pairwise distances; the `top` highest (best separable, "B") or lowest
// (worst separable, "W") are kept. Ties keep the lexicographically smaller combination first.
// Tasks are named "<k>C<B|W>" (rank 1, as the thesis's "2CB") and "<k>C<B|W>-<rank>" after it.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spikeline/tasks/distances.hpp"

namespace spikeline::tasks {

enum class SearchOrder { best, worst };
std::string_view search_order_name(SearchOrder o);
SearchOrder search_order_from_name(std::string_view name);  // InputError on unknown name

struct TaskCandidate {
  std::vector<std::size_t> classes;  // ascending indices into the matrix's classes
  double score = 0;
  bool operator==(const TaskCandidate&) const = default;
};

// InputError when k is not in [2, n] or the number of combinations is beyond reach (> 1e10).
std::vector<TaskCandidate> search_tasks(const DistanceMatrix& m, std::size_t k, SearchOrder order, std::size_t top);

std::string task_name(std::size_t k, SearchOrder order, std::size_t rank);  // rank from 1

struct Task {
  std::string name;
  std::size_t k = 0, rank = 0;
  SearchOrder order = SearchOrder::best;
  TaskCandidate candidate;
};
std::vector<Task> name_tasks(const std::vector<TaskCandidate>& found, std::size_t k, SearchOrder order);

// {"format": "spikeline.tasks", "metric", "classes": [all names], "tasks": {"2CB": {"classes":
// [names], "letters": "FP", "indices": [..], "score", "k", "order", "rank"}, ...}}
nlohmann::json tasks_to_json(const DistanceMatrix& m, const std::vector<Task>& tasks);
// Tasks of a tasks JSON, by name; InputError naming the file/field.
std::vector<Task> tasks_from_json(const nlohmann::json& j, const std::string& where);

}  // namespace spikeline::tasks
