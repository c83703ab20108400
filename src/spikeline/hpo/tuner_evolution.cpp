// Evolution tuner (NNI evolution_tuner.py, hpo.md 2.4): a population of random individuals;
// un-evaluated ones are issued first, then each request is a tournament of two random members
// whose winner is copied with exactly one parameter re-sampled from its prior.
#include <map>
#include <set>

#include "spikeline/hpo/tuners_impl.hpp"

namespace spikeline::hpo::detail {

namespace {

class EvolutionTuner final : public Tuner {
 public:
  EvolutionTuner(const SearchSpace& space, Direction dir, std::uint64_t seed, int population_size)
      : space_(space), dir_(dir), rng_(seed), population_size_(static_cast<std::size_t>(population_size)) {
    for (std::size_t i = 0; i < population_size_; ++i) population_.push_back({space_.sample_point(rng_), {}});
  }

  std::optional<Parameters> generate(std::int64_t parameter_id) override {
    Point child;
    if (running_.size() >= population_size_ || population_.empty()) {
      // NNI defers such requests until trials end; we issue a fresh random individual instead.
      child = space_.sample_point(rng_);
    } else if (auto pos = first_unevaluated()) {
      child = population_[*pos].point;
      population_.erase(population_.begin() + static_cast<std::ptrdiff_t>(*pos));
    } else {
      child = tournament_child();
    }
    running_[parameter_id] = child;
    return space_.to_parameters(child);
  }

  void receive_result(std::int64_t parameter_id, const Parameters& params, double value) override {
    const auto it = running_.find(parameter_id);
    Point p = it != running_.end() ? it->second : space_.to_point(params, "Evolution: imported parameters");
    if (it != running_.end()) running_.erase(it);
    population_.push_back({std::move(p), dir_ == Direction::Maximize ? value : -value});
  }

  void trial_end(std::int64_t parameter_id, bool succeeded) override {
    const auto it = running_.find(parameter_id);
    if (it == running_.end()) return;  // already has its result (or unknown)
    running_.erase(it);
    // A failed trial is replaced by a fresh random individual; a success without a final
    // result simply leaves the population.
    if (!succeeded) population_.push_back({space_.sample_point(rng_), {}});
  }
  std::string name() const override { return "Evolution"; }

 private:
  struct Individual {
    Point point;
    std::optional<double> reward;  // larger is better
  };

  std::optional<std::size_t> first_unevaluated() const {
    for (std::size_t i = 0; i < population_.size(); ++i)
      if (!population_[i].reward) return i;
    return std::nullopt;
  }

  Point tournament_child() {
    for (std::size_t i = population_.size(); i > 1; --i)  // Fisher-Yates shuffle
      std::swap(population_[i - 1], population_[rng_.below(i)]);
    if (population_.size() > 1 && *population_[0].reward < *population_[1].reward) population_[0] = population_[1];
    Point child = population_[0].point;
    std::vector<std::size_t> active;
    for (std::size_t i = 0; i < child.size(); ++i)
      if (child[i]) active.push_back(i);
    const std::size_t m = active[rng_.below(active.size())];
    child[m] = space_.specs()[m].sample_prior(rng_);
    // Sub-parameters of a re-chosen nested option: drop the unchosen ones, draw the new ones.
    Point fixed(child.size());
    for (std::size_t i = 0; i < child.size(); ++i) {
      if (!space_.active(i, fixed)) continue;
      fixed[i] = child[i] ? child[i] : space_.specs()[i].sample_prior(rng_);
    }
    if (population_.size() > 1) population_.erase(population_.begin() + 1);
    return fixed;
  }

  SearchSpace space_;
  Direction dir_;
  Rng rng_;
  std::size_t population_size_;
  std::vector<Individual> population_;
  std::map<std::int64_t, Point> running_;
};

}  // namespace

std::unique_ptr<Tuner> make_evolution_tuner(const SearchSpace& space, Direction dir, std::uint64_t seed,
                                            int population_size) {
  return std::make_unique<EvolutionTuner>(space, dir, seed, population_size);
}

}  // namespace spikeline::hpo::detail
