// TPE tuner: NNI 3.0's own re-implementation (nni/algorithms/hpo/tpe_tuner.py, hpo.md 2.3).
// Works in NNI's "formatted" space: category index, log value for log types, values before
// q-rounding; each parameter is modelled independently.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numbers>
#include <set>

#include "spikeline/hpo/tuners_impl.hpp"

namespace spikeline::hpo::detail {

namespace {

struct Record {
  double value;  // formatted
  double loss;
};

double flow(const ParamSpec& s) { return s.log() ? std::log(s.low) : s.low; }
double fhigh(const ParamSpec& s) { return s.log() ? std::log(s.high) : s.high; }

double deformat(const ParamSpec& s, double f) {
  if (s.categorical()) return f;
  return s.finish(s.log() ? std::exp(f) : f);
}

double random_formatted(const ParamSpec& s, Rng& rng) {
  if (s.categorical()) return static_cast<double>(rng.below(static_cast<std::uint64_t>(s.size())));
  if (s.normal()) return s.mu + s.sigma * rng.normal();
  return flow(s) + (fhigh(s) - flow(s)) * rng.uniform();
}

std::vector<double> linear_forgetting_weights(const TpeArgs& a, std::size_t n) {
  const auto lf = static_cast<std::size_t>(a.linear_forgetting);
  if (n < lf) return std::vector<double>(n, 1.0);
  // numpy.linspace(1/n, 1, n - lf) followed by lf ones.
  std::vector<double> w;
  const std::size_t r = n - lf;
  for (std::size_t i = 0; i < r; ++i)
    w.push_back(r == 1 ? 1.0 / static_cast<double>(n)
                       : 1.0 / static_cast<double>(n) +
                             (1.0 - 1.0 / static_cast<double>(n)) * static_cast<double>(i) / static_cast<double>(r - 1));
  w.insert(w.end(), lf, 1.0);
  return w;
}

// Good ("below") and bad ("above") observations, each in ascending loss order.
std::pair<std::vector<double>, std::vector<double>> split(const TpeArgs& a, const std::vector<Record>& h) {
  auto n_below = static_cast<std::size_t>(std::ceil(a.gamma * std::sqrt(static_cast<double>(h.size()))));
  n_below = std::min(n_below, static_cast<std::size_t>(a.linear_forgetting));
  std::vector<std::size_t> order(h.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return h[x].loss < h[y].loss; });
  std::pair<std::vector<double>, std::vector<double>> r;
  for (std::size_t k = 0; k < order.size(); ++k) (k < n_below ? r.first : r.second).push_back(h[order[k]].value);
  return r;
}

std::size_t draw_index(const std::vector<double>& p, Rng& rng) {
  double u = rng.uniform(), acc = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    acc += p[i];
    if (u < acc) return i;
  }
  return p.size() - 1;
}

std::vector<double> category_probs(const TpeArgs& a, const std::vector<double>& obs, std::size_t size) {
  const auto w = linear_forgetting_weights(a, obs.size());
  std::vector<double> p(size, a.prior_weight);
  for (std::size_t i = 0; i < obs.size(); ++i) p[static_cast<std::size_t>(obs[i])] += w[i];
  double sum = 0;
  for (double x : p) sum += x;
  for (double& x : p) x /= sum;
  return p;
}

double suggest_categorical(const TpeArgs& a, Rng& rng, const std::vector<Record>& h, std::size_t size) {
  const auto [below, above] = split(a, h);
  const auto pb = category_probs(a, below, size), pa = category_probs(a, above, size);
  double best_score = -std::numeric_limits<double>::infinity();
  std::size_t best = 0;
  for (int c = 0; c < a.n_ei_candidates; ++c) {
    const std::size_t k = draw_index(pb, rng);
    const double score = std::log(pb[k]) - std::log(pa[k]);
    if (c == 0 || score > best_score) best_score = score, best = k;
  }
  return static_cast<double>(best);
}

struct Mixture {
  std::vector<double> w, mu, sigma;
};

Mixture adaptive_parzen(const TpeArgs& a, const std::vector<double>& obs, double prior_mu, double prior_sigma) {
  std::vector<double> mus = obs;
  mus.push_back(prior_mu);
  std::vector<std::size_t> order(mus.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return mus[x] < mus[y]; });
  Mixture m;
  for (std::size_t i : order) m.mu.push_back(mus[i]);
  const std::size_t n = m.mu.size();
  const auto prior_index =
      static_cast<std::size_t>(std::lower_bound(m.mu.begin(), m.mu.end(), prior_mu) - m.mu.begin());
  if (n == 1) {
    m.sigma = {prior_sigma};
  } else if (n == 2) {
    m.sigma = {prior_sigma * 0.5, prior_sigma * 0.5};
    m.sigma[prior_index] = prior_sigma;
  } else {
    m.sigma.push_back(m.mu[1] - m.mu[0]);
    for (std::size_t i = 1; i + 1 < n; ++i) m.sigma.push_back(std::max(m.mu[i] - m.mu[i - 1], m.mu[i + 1] - m.mu[i]));
    m.sigma.push_back(m.mu[n - 1] - m.mu[n - 2]);
    m.sigma[prior_index] = prior_sigma;
  }
  const double lo = prior_sigma / static_cast<double>(std::min<std::size_t>(100, n + 1));
  for (double& s : m.sigma) s = std::clamp(s, lo, prior_sigma);
  // NNI computes forgetting weights for the n components and appends prior_weight, then
  // indexes that array with the n-element sort order: the appended prior_weight is never used.
  // Reproduced as is.
  auto lfw = linear_forgetting_weights(a, n);
  double sum = 0;
  for (std::size_t i : order) m.w.push_back(lfw[i]), sum += lfw[i];
  for (double& w : m.w) w /= sum;
  return m;
}

std::vector<double> mixture_lpdf(const std::vector<double>& xs, const Mixture& m, const std::optional<std::pair<double, double>>& clip) {
  constexpr double eps = 1e-12;
  double p_accept = 1;
  if (clip) {
    p_accept = 0;
    for (std::size_t j = 0; j < m.mu.size(); ++j) {
      const double d = std::max(std::sqrt(2.0) * m.sigma[j], eps);
      const double cl = std::erf((clip->first - m.mu[j]) / d) * 0.5 + 0.5;
      const double ch = std::erf((clip->second - m.mu[j]) / d) * 0.5 + 0.5;
      p_accept += m.w[j] * (ch - cl);
    }
  }
  std::vector<double> out;
  for (double x : xs) {
    std::vector<double> l;
    double mx = -std::numeric_limits<double>::infinity();
    for (std::size_t j = 0; j < m.mu.size(); ++j) {
      const double z = (x - m.mu[j]) / std::max(m.sigma[j], eps);
      const double coef = m.w[j] / (std::sqrt(2 * std::numbers::pi) * m.sigma[j]) / p_accept;
      l.push_back(-0.5 * z * z + std::log(coef));
      mx = std::max(mx, l.back());
    }
    double s = 0;
    for (double v : l) s += std::exp(v - mx);
    out.push_back(std::log(s) + mx);
  }
  return out;
}

double suggest_normal(const TpeArgs& a, Rng& rng, const std::vector<Record>& h, double mu, double sigma,
                      const std::optional<std::pair<double, double>>& clip) {
  const auto [below, above] = split(a, h);
  const Mixture good = adaptive_parzen(a, below, mu, sigma);
  std::vector<double> samples;
  const auto n = static_cast<std::size_t>(a.n_ei_candidates);
  for (std::size_t tries = 0; samples.size() < n; ++tries) {
    const std::size_t j = draw_index(good.w, rng);
    double x = good.mu[j] + good.sigma[j] * rng.normal();
    // Degenerate histories (inf/NaN values) could reject forever: fall back to the clip range.
    if (tries > 1000 * n) x = clip ? clip->first + (clip->second - clip->first) * rng.uniform() : mu;
    if (!clip || (clip->first <= x && x <= clip->second)) samples.push_back(x);
  }
  const auto lb = mixture_lpdf(samples, good, clip);
  const auto la = mixture_lpdf(samples, adaptive_parzen(a, above, mu, sigma), clip);
  std::size_t best = 0;
  for (std::size_t i = 1; i < samples.size(); ++i)
    if (lb[i] - la[i] > lb[best] - la[best]) best = i;
  return samples[best];
}

class Liar {
 public:
  explicit Liar(std::string type) : type_(std::move(type)) {}
  bool enabled() const { return type_ != "none"; }
  void update(double loss) {
    best_ = n_ == 0 ? loss : std::min(best_, loss);
    worst_ = n_ == 0 ? loss : std::max(worst_, loss);
    sum_ += loss;
    ++n_;
  }
  double lie() const {  // 0 before any real result: then every record is the same lie
    if (n_ == 0) return 0.0;
    if (type_ == "best") return best_;
    if (type_ == "worst") return worst_;
    return sum_ / static_cast<double>(n_);
  }

 private:
  std::string type_;
  double best_ = 0, worst_ = 0, sum_ = 0;
  std::size_t n_ = 0;
};

class TpeTuner final : public Tuner {
 public:
  TpeTuner(const SearchSpace& space, Direction dir, std::uint64_t seed, TpeArgs args)
      : space_(space), dir_(dir), args_(std::move(args)), rng_(seed), liar_(args_.constant_liar_type),
        history_(space_.size()), dedup_(space_) {}

  std::optional<Parameters> generate(std::int64_t parameter_id) override {
    std::vector<std::vector<Record>> lied;
    const bool lie = liar_.enabled() && !running_.empty();
    if (lie) {
      lied = history_;
      for (std::int64_t id : running_) {
        const Point& f = formatted_.at(id);
        for (std::size_t i = 0; i < f.size(); ++i)
          if (f[i]) lied[i].push_back({*f[i], liar_.lie()});
      }
    }
    const auto& h = lie ? lied : history_;
    Point f(space_.size());
    for (std::size_t i = 0; i < space_.size(); ++i)
      if (space_.active(i, f)) f[i] = suggest_parameter(space_.specs()[i], h[i]);
    Point values(space_.size());
    for (std::size_t i = 0; i < f.size(); ++i)
      if (f[i]) values[i] = deformat(space_.specs()[i], *f[i]);
    const auto unique = dedup_(values);
    if (!unique) return std::nullopt;
    if (*unique != values) f = format(*unique);
    formatted_[parameter_id] = f;
    running_.insert(parameter_id);
    return space_.to_parameters(*unique);
  }

  void receive_result(std::int64_t parameter_id, const Parameters& params, double value) override {
    const double loss = dir_ == Direction::Minimize ? value : -value;
    liar_.update(loss);
    const auto it = formatted_.find(parameter_id);
    const Point f = it != formatted_.end() ? it->second : format(space_.to_point(params, "TPE: imported parameters"));
    running_.erase(parameter_id);
    for (std::size_t i = 0; i < f.size(); ++i)
      if (f[i]) history_[i].push_back({*f[i], loss});
  }

  void trial_end(std::int64_t parameter_id, bool) override { running_.erase(parameter_id); }
  std::string name() const override { return "TPE"; }

 private:
  Point format(const Point& values) const {
    Point f(values.size());
    for (std::size_t i = 0; i < values.size(); ++i)
      if (values[i]) f[i] = space_.specs()[i].log() ? std::log(std::max(*values[i], 1e-300)) : *values[i];
    return f;
  }

  double suggest_parameter(const ParamSpec& s, const std::vector<Record>& h) {
    if (h.size() < static_cast<std::size_t>(args_.n_startup_jobs)) return random_formatted(s, rng_);
    if (s.categorical()) return suggest_categorical(args_, rng_, h, static_cast<std::size_t>(s.size()));
    if (s.normal()) return suggest_normal(args_, rng_, h, s.mu, s.sigma, std::nullopt);
    // Uniform families become normal((low + high) / 2, high - low) truncated to [low, high].
    return suggest_normal(args_, rng_, h, (flow(s) + fhigh(s)) * 0.5, fhigh(s) - flow(s),
                          std::make_pair(flow(s), fhigh(s)));
  }

  SearchSpace space_;
  Direction dir_;
  TpeArgs args_;
  Rng rng_;
  Liar liar_;
  std::vector<std::vector<Record>> history_;  // per flattened parameter
  std::map<std::int64_t, Point> formatted_;
  std::set<std::int64_t> running_;
  Deduplicator dedup_;
};

}  // namespace

std::unique_ptr<Tuner> make_tpe_tuner(const SearchSpace& space, Direction dir, std::uint64_t seed,
                                      const TpeArgs& args) {
  return std::make_unique<TpeTuner>(space, dir, seed, args);
}

}  // namespace spikeline::hpo::detail
