#include "spikeline/tasks/search.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"

namespace spikeline::tasks {

namespace {
using nlohmann::json;

// a before b in the result list.
bool ranks_before(const TaskCandidate& a, const TaskCandidate& b, SearchOrder order) {
  if (a.score != b.score) return order == SearchOrder::best ? a.score > b.score : a.score < b.score;
  return a.classes < b.classes;
}
}  // namespace

std::string_view search_order_name(SearchOrder o) { return o == SearchOrder::best ? "best" : "worst"; }
SearchOrder search_order_from_name(std::string_view name) {
  if (name == "best") return SearchOrder::best;
  if (name == "worst") return SearchOrder::worst;
  throw InputError("order", "unknown order '" + std::string(name) + "' (best, worst)");
}

std::vector<TaskCandidate> search_tasks(const DistanceMatrix& m, std::size_t k, SearchOrder order, std::size_t top) {
  const std::size_t n = m.size();
  if (k < 2 || k > n)
    throw InputError("k", "must be between 2 and the number of classes (" + std::to_string(n) + "), got " + std::to_string(k));
  double combos = 1;
  for (std::size_t i = 0; i < k; ++i) combos = combos * static_cast<double>(n - i) / static_cast<double>(i + 1);
  if (combos > 1e10) throw InputError("k", "C(" + std::to_string(n) + ", " + std::to_string(k) + ") combinations is too many to enumerate");

  std::vector<TaskCandidate> kept;  // sorted, at most `top`
  if (top == 0) return kept;
  TaskCandidate cur;
  cur.classes.resize(k);
  for (std::size_t i = 0; i < k; ++i) cur.classes[i] = i;
  // Partial sums: prefix[i] = score of classes[0..i] (so advancing position i recomputes from i on).
  std::vector<double> prefix(k, 0.0);
  auto recompute_from = [&](std::size_t from) {
    for (std::size_t i = from; i < k; ++i) {
      double s = i ? prefix[i - 1] : 0.0;
      for (std::size_t j = 0; j < i; ++j) s += m.at(cur.classes[j], cur.classes[i]);
      prefix[i] = s;
    }
  };
  recompute_from(0);
  while (true) {
    cur.score = prefix[k - 1];
    if (kept.size() < top || ranks_before(cur, kept.back(), order)) {
      auto at = std::upper_bound(kept.begin(), kept.end(), cur,
                                 [order](const TaskCandidate& a, const TaskCandidate& b) { return ranks_before(a, b, order); });
      kept.insert(at, cur);
      if (kept.size() > top) kept.pop_back();
    }
    // Next combination in lexicographic order.
    std::size_t i = k;
    while (i > 0 && cur.classes[i - 1] == n - k + (i - 1)) --i;
    if (i == 0) break;
    ++cur.classes[i - 1];
    for (std::size_t j = i; j < k; ++j) cur.classes[j] = cur.classes[j - 1] + 1;
    recompute_from(i - 1);
  }
  return kept;
}

std::string task_name(std::size_t k, SearchOrder order, std::size_t rank) {
  const char letter = order == SearchOrder::best ? 'B' : 'W';
  return rank > 1 ? fmt::format("{}C{}-{}", k, letter, rank) : fmt::format("{}C{}", k, letter);
}

std::vector<Task> name_tasks(const std::vector<TaskCandidate>& found, std::size_t k, SearchOrder order) {
  std::vector<Task> tasks;
  for (std::size_t r = 0; r < found.size(); ++r) tasks.push_back({task_name(k, order, r + 1), k, r + 1, order, found[r]});
  return tasks;
}

json tasks_to_json(const DistanceMatrix& m, const std::vector<Task>& tasks) {
  json all = json::array();
  for (const auto& c : m.classes) all.push_back(c.name);
  json out = json::object();
  for (const auto& t : tasks) {
    json names = json::array();
    std::string letters;
    for (std::size_t c : t.candidate.classes) {
      names.push_back(m.classes.at(c).name);
      if (m.classes[c].letter) letters += m.classes[c].letter;
    }
    const double s = t.candidate.score;
    out[t.name] = {{"classes", names},
                   {"letters", letters},
                   {"indices", t.candidate.classes},
                   {"score", std::isfinite(s) ? json(s) : json(nullptr)},
                   {"k", t.k},
                   {"order", std::string(search_order_name(t.order))},
                   {"rank", t.rank}};
  }
  return {{"format", "spikeline.tasks"},
          {"metric", std::string(metric_name(m.metric))},
          {"parameters", m.parameters},
          {"classes", all},
          {"tasks", out}};
}

std::vector<Task> tasks_from_json(const json& j, const std::string& where) {
  if (!j.is_object() || !j.contains("tasks") || !j["tasks"].is_object())
    throw InputError(where + ": tasks", "missing or not an object");
  std::vector<Task> tasks;
  for (const auto& [name, t] : j["tasks"].items()) {
    const std::string field = where + ": tasks." + name;
    try {
      Task task;
      task.name = name;
      task.k = t.at("k").get<std::size_t>();
      task.rank = t.at("rank").get<std::size_t>();
      task.order = search_order_from_name(t.at("order").get<std::string>());
      task.candidate.classes = t.at("indices").get<std::vector<std::size_t>>();
      task.candidate.score = t.at("score").is_null() ? INFINITY : t.at("score").get<double>();
      tasks.push_back(std::move(task));
    } catch (const json::exception& e) {
      throw InputError(field, std::string("malformed task: ") + e.what());
    } catch (const InputError& e) {
      throw InputError(field, e.what());
    }
    if (tasks.back().candidate.classes.size() != tasks.back().k) throw InputError(field, "indices do not have k entries");
  }
  return tasks;
}

}  // namespace spikeline::tasks
