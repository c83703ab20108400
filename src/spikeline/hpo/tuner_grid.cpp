// GridSearch (NNI 3.0 gridsearch_tuner.py) and the grid-based deduplicator (dedup.py).
#include <cmath>
#include <limits>
#include <numbers>

#include "spikeline/hpo/tuners_impl.hpp"

namespace spikeline::hpo::detail {

double normal_quantile(double p) {
  if (p <= 0) return -std::numeric_limits<double>::infinity();
  if (p >= 1) return std::numeric_limits<double>::infinity();
  if (p == 0.5) return 0.0;
  // Acklam's rational approximation (rel. error 1.2e-9), then one Halley step on erfc gives
  // close to full double precision.
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                                 1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                 6.680131188771972e+01,  -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                 -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                 3.754408661907416e+00};
  double x;
  if (p < 0.02425) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p > 1 - 0.02425) {
    const double q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  const double u = e * std::sqrt(2 * std::numbers::pi) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

GridEnumerator::GridEnumerator(const SearchSpace& space) : space_(space) {
  const auto& specs = space_.specs();
  grid_.resize(specs.size());
  epoch_bar_.assign(specs.size(), 0);
  divisions_.resize(specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const ParamSpec& s = specs[i];
    if (s.categorical()) continue;  // indices 0..size-1, not materialised (randint may be huge)
    grid_[i] = {0.5};
    if (less(0, 0.5, s)) divisions_[i].emplace_back(0, 0.5);
    if (less(0.5, 1, s)) divisions_[i].emplace_back(0.5, 1);
  }
}

double GridEnumerator::value_at(double cdf, const ParamSpec& s) const {
  // NNI's _cdf_inverse in formatted space (log space for log types), then deformat.
  double f;
  if (s.normal()) {
    f = s.mu + s.sigma * normal_quantile(cdf);
  } else {
    const double lo = s.log() ? std::log(s.low) : s.low, hi = s.log() ? std::log(s.high) : s.high;
    f = lo + (hi - lo) * cdf;
  }
  if (std::isinf(f)) return f;
  return s.finish(s.log() ? std::exp(f) : f);
}

std::size_t GridEnumerator::dim_size(std::size_t i) const {
  const ParamSpec& s = space_.specs()[i];
  return s.categorical() ? static_cast<std::size_t>(s.size()) : grid_[i].size();
}

bool GridEnumerator::less(double x, double y, const ParamSpec& s) const { return value_at(x, s) < value_at(y, s); }

Point GridEnumerator::current() const {
  Point p(grid_.size());
  for (std::size_t i = 0; i < grid_.size(); ++i) {
    if (!space_.active(i, p)) continue;
    const ParamSpec& s = space_.specs()[i];
    p[i] = s.categorical() ? static_cast<double>((*vector_)[i]) : value_at(grid_[i][(*vector_)[i]], s);
  }
  return p;
}

void GridEnumerator::next_vector() {
  if (!vector_) {
    vector_ = std::vector<std::size_t>(grid_.size(), 0);
    return;
  }
  const Point p = current();
  for (std::size_t j = grid_.size(); j-- > 0;) {
    if (!space_.active(j, p)) continue;  // unchosen nested sub-spaces do not tick
    if ((*vector_)[j] + 1 < dim_size(j)) {
      ++(*vector_)[j];
      return;
    }
    (*vector_)[j] = 0;
  }
  vector_.reset();  // epoch ends
}

void GridEnumerator::next_grid() {
  bool updated = false;
  for (std::size_t i = 0; i < grid_.size(); ++i) {
    epoch_bar_[i] = dim_size(i);
    const ParamSpec& s = space_.specs()[i];
    if (s.categorical()) continue;
    std::vector<double> new_vals;
    std::vector<std::pair<double, double>> new_divs;
    for (const auto& [l, r] : divisions_[i]) {
      const double mid = (l + r) / 2;
      const bool dl = less(l, mid, s), dr = less(mid, r, s);
      if (dl && dr) {
        new_vals.push_back(mid);
        updated = true;
      }
      if (dl) new_divs.emplace_back(l, mid);
      if (dr) new_divs.emplace_back(mid, r);
    }
    grid_[i].insert(grid_[i].end(), new_vals.begin(), new_vals.end());
    divisions_[i] = std::move(new_divs);
  }
  if (!updated) done_ = true;
}

std::optional<Point> GridEnumerator::next() {
  while (true) {
    if (done_) return std::nullopt;
    next_vector();
    if (!vector_) {
      next_grid();
      continue;
    }
    bool old = true;
    for (std::size_t i = 0; i < grid_.size(); ++i) old = old && (*vector_)[i] < epoch_bar_[i];
    if (old) continue;
    return current();
  }
}

Deduplicator::Deduplicator(const SearchSpace& space) : space_(space) {
  for (const ParamSpec& s : space_.specs())
    if (s.parent < 0 && !s.categorical() && !s.quantized()) never_dup_ = true;
}

bool Deduplicator::fresh(const Point& p) { return history_.insert(canonical_key(space_.to_parameters(p))).second; }

std::optional<Point> Deduplicator::operator()(Point p) {
  if (never_dup_ || fresh(p)) return p;
  if (!grid_) grid_ = std::make_unique<GridEnumerator>(space_);
  while (auto g = grid_->next())
    if (fresh(*g)) return g;
  return std::nullopt;
}

namespace {

class GridSearchTuner final : public Tuner {
 public:
  explicit GridSearchTuner(const SearchSpace& space) : space_(space), grid_(space_) {}
  std::optional<Parameters> generate(std::int64_t) override {
    while (auto p = grid_.next()) {
      Parameters params = space_.to_parameters(*p);
      if (seen_.insert(canonical_key(params)).second) return params;
    }
    return std::nullopt;
  }
  void receive_result(std::int64_t, const Parameters&, double) override {}
  std::string name() const override { return "GridSearch"; }

 private:
  SearchSpace space_;
  GridEnumerator grid_;
  std::set<std::string> seen_;
};

}  // namespace

std::unique_ptr<Tuner> make_grid_tuner(const SearchSpace& space) { return std::make_unique<GridSearchTuner>(space); }

}  // namespace spikeline::hpo::detail
