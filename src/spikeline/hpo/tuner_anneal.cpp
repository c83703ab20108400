// Anneal tuner: hyperopt's annealing algorithm as wrapped by NNI (hpo.md section 2.2).
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include "spikeline/hpo/tuner_anneal.hpp"
#include "spikeline/hpo/tuners_impl.hpp"

namespace spikeline::hpo {

namespace anneal {

std::size_t pick_rank(Rng& rng, std::size_t n) {
  // g ~ Geometric(p = 1 / avg_best_idx = 1/2) on {1, 2, ...}; rank = min(g - 1, n - 1).
  std::size_t k = 0;
  while (k + 1 < n && rng.uniform() >= 0.5) ++k;
  return k;
}

double shrink(std::size_t n_trials) { return 1.0 / (1.0 + 0.1 * static_cast<double>(n_trials)); }

Window window(const ParamSpec& s, double base, std::size_t n_trials) {
  const double lo = s.log() ? std::log(s.low) : s.low, hi = s.log() ? std::log(s.high) : s.high;
  const double half = 0.5 * (hi - lo) * shrink(n_trials);
  // min/max rather than std::clamp: lo + half may exceed hi - half by an ulp.
  const double c = std::min(std::max(s.log() ? std::log(base) : base, lo + half), hi - half);
  return {c - half, c + half};
}

double perturb(const ParamSpec& s, double base, std::size_t n_trials, Rng& rng) {
  const double sh = shrink(n_trials);
  switch (s.type) {
    case ParamType::Choice:
    case ParamType::Randint: {
      // p_i = s/K + (1 - s) [i == base]: keep the base's category with (1 - s) + s/K.
      const auto k = static_cast<std::uint64_t>(s.size());
      if (rng.uniform() < 1.0 - sh) return base;
      return static_cast<double>(rng.below(k));
    }
    case ParamType::Uniform:
    case ParamType::Quniform:
    case ParamType::Loguniform:
    case ParamType::Qloguniform: {
      const Window w = window(s, base, n_trials);
      const double x = w.lo + (w.hi - w.lo) * rng.uniform();
      return s.finish(s.log() ? std::exp(x) : x);
    }
    case ParamType::Normal:
    case ParamType::Qnormal: return s.finish(base + s.sigma * sh * rng.normal());
    case ParamType::Lognormal:
    case ParamType::Qlognormal: {
      // hyperopt guards log(0) for the quantized family, whose rounding can give 0.
      const double c = s.type == ParamType::Qlognormal ? std::log(base + 1e-16) : std::log(base);
      return s.finish(std::exp(c + s.sigma * sh * rng.normal()));
    }
  }
  return base;
}

}  // namespace anneal

namespace detail {

namespace {

class AnnealTuner final : public Tuner {
 public:
  AnnealTuner(const SearchSpace& space, Direction dir, std::uint64_t seed)
      : space_(space), dir_(dir), master_(seed) {}

  std::optional<Parameters> generate(std::int64_t parameter_id) override {
    // Per-suggestion generator from the master stream and the trial index (NNI/hyperopt).
    Rng rng(master_.next_u64() + static_cast<std::uint64_t>(parameter_id));
    Point p = suggest(rng);
    Parameters params = space_.to_parameters(p);
    if (!generated_.insert(canonical_key(params)).second) {
      // Duplicate guard: one draw from the prior instead, not re-checked (NNI wrapper).
      Rng prior(master_.next_u64());
      p = space_.sample_point(prior);
      params = space_.to_parameters(p);
      generated_.insert(canonical_key(params));
    }
    points_[parameter_id] = p;
    return params;
  }

  void receive_result(std::int64_t parameter_id, const Parameters& params, double value) override {
    const auto it = points_.find(parameter_id);
    Point p;
    if (it != points_.end()) {
      p = it->second;
    } else {
      // Imported result (warm start): NNI's Anneal import skips falsy values such as 0.0.
      if (value == 0.0) return;
      p = space_.to_point(params, "Anneal: imported parameters");
      generated_.insert(canonical_key(space_.to_parameters(p)));
    }
    history_.push_back({std::move(p), dir_ == Direction::Maximize ? -value : value});
  }
  std::string name() const override { return "Anneal"; }

 private:
  struct Trial {
    Point point;
    double loss;
  };

  Point suggest(Rng& rng) const {
    Point p(space_.size());
    std::optional<std::size_t> base;  // history index, shared by all parameters it carries
    for (std::size_t i = 0; i < space_.size(); ++i) {
      if (!space_.active(i, p)) continue;
      std::vector<std::size_t> having;
      for (std::size_t h = 0; h < history_.size(); ++h)
        if (history_[h].point[i]) having.push_back(h);
      const ParamSpec& s = space_.specs()[i];
      if (having.empty()) {
        p[i] = s.sample_prior(rng);
        continue;
      }
      if (!base || !history_[*base].point[i]) {
        // Rank by (loss, history index): a stable order where numpy's is unspecified.
        std::stable_sort(having.begin(), having.end(),
                         [&](std::size_t a, std::size_t b) { return history_[a].loss < history_[b].loss; });
        base = having[anneal::pick_rank(rng, having.size())];
      }
      p[i] = anneal::perturb(s, *history_[*base].point[i], having.size(), rng);
    }
    return p;
  }

  SearchSpace space_;
  Direction dir_;
  Rng master_;
  std::vector<Trial> history_;
  std::map<std::int64_t, Point> points_;
  std::set<std::string> generated_;
};

}  // namespace

std::unique_ptr<Tuner> make_anneal_tuner(const SearchSpace& space, Direction dir, std::uint64_t seed) {
  return std::make_unique<AnnealTuner>(space, dir, seed);
}

}  // namespace detail

}  // namespace spikeline::hpo
