#pragma once
// Internal pieces shared by the tuners (not part of the public hpo API).
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spikeline/hpo/search_space.hpp"
#include "spikeline/hpo/tuner.hpp"

namespace spikeline::hpo::detail {

// Quantile of the standard normal distribution (p in [0, 1]; +-inf at the ends).
double normal_quantile(double p);

// NNI's GridSearchTuner enumeration (hpo.md 2.4): epochs of CDF-space refinement, odometer order
// (last parameter fastest), vectors entirely inside earlier epochs skipped. Points are not
// deduplicated here.
class GridEnumerator {
 public:
  explicit GridEnumerator(const SearchSpace& space);
  std::optional<Point> next();  // std::nullopt: fully explored

 private:
  Point current() const;
  std::size_t dim_size(std::size_t i) const;
  void next_vector();
  void next_grid();
  bool less(double x, double y, const ParamSpec& s) const;  // in value space after rounding
  double value_at(double cdf, const ParamSpec& s) const;     // deformatted value

  const SearchSpace& space_;
  bool done_ = false;
  std::vector<std::vector<double>> grid_;  // per numerical parameter: CDF positions
  std::optional<std::vector<std::size_t>> vector_;
  std::vector<std::size_t> epoch_bar_;
  std::vector<std::vector<std::pair<double, double>>> divisions_;
};

// NNI's Deduplicator (Random, TPE): spaces with a continuous top-level parameter never
// deduplicate; otherwise a repeated point is replaced by the next unseen grid-search point.
class Deduplicator {
 public:
  explicit Deduplicator(const SearchSpace& space);
  std::optional<Point> operator()(Point p);  // std::nullopt: space exhausted

 private:
  bool fresh(const Point& p);  // records p
  const SearchSpace& space_;
  bool never_dup_ = false;
  std::set<std::string> history_;
  std::unique_ptr<GridEnumerator> grid_;
};

// Class-argument reading with errors naming `where` and the key.
class ClassArgs {
 public:
  ClassArgs(const nlohmann::json& args, std::string where);
  // Throws for any key not in `allowed`.
  void only(std::initializer_list<const char*> allowed) const;
  bool has(const char* key) const { return args_.contains(key) && !args_[key].is_null(); }
  std::string str(const char* key, const std::string& fallback) const;
  std::int64_t integer(const char* key, std::int64_t fallback, std::int64_t min, std::int64_t max) const;
  double number(const char* key, double fallback) const;
  bool boolean(const char* key, bool fallback) const;
  Direction direction(Direction fallback) const;
  std::uint64_t seed(std::uint64_t fallback) const;
  const nlohmann::json& raw() const { return args_; }
  const std::string& where() const { return where_; }

 private:
  nlohmann::json args_;
  std::string where_;
};

std::unique_ptr<Tuner> make_random_tuner(const SearchSpace& space, std::uint64_t seed);
std::unique_ptr<Tuner> make_grid_tuner(const SearchSpace& space);
std::unique_ptr<Tuner> make_anneal_tuner(const SearchSpace& space, Direction dir, std::uint64_t seed);

struct TpeArgs {
  std::string constant_liar_type = "best";  // best, worst, mean or none
  int n_startup_jobs = 20;
  int n_ei_candidates = 24;
  int linear_forgetting = 25;
  double prior_weight = 1.0;
  double gamma = 0.25;
};
std::unique_ptr<Tuner> make_tpe_tuner(const SearchSpace& space, Direction dir, std::uint64_t seed,
                                      const TpeArgs& args);
std::unique_ptr<Tuner> make_evolution_tuner(const SearchSpace& space, Direction dir,
                                            std::uint64_t seed, int population_size);

}  // namespace spikeline::hpo::detail
