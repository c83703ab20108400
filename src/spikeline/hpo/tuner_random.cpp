// Random tuner (NNI 3.0 random_tuner.py): seeded prior draws, NNI's deduplication.
#include "spikeline/hpo/tuners_impl.hpp"

namespace spikeline::hpo::detail {

namespace {

class RandomTuner final : public Tuner {
 public:
  RandomTuner(const SearchSpace& space, std::uint64_t seed) : space_(space), rng_(seed), dedup_(space_) {}
  std::optional<Parameters> generate(std::int64_t) override {
    const auto p = dedup_(space_.sample_point(rng_));
    if (!p) return std::nullopt;
    return space_.to_parameters(*p);
  }
  void receive_result(std::int64_t, const Parameters&, double) override {}
  std::string name() const override { return "Random"; }

 private:
  SearchSpace space_;
  Rng rng_;
  Deduplicator dedup_;
};

}  // namespace

std::unique_ptr<Tuner> make_random_tuner(const SearchSpace& space, std::uint64_t seed) {
  return std::make_unique<RandomTuner>(space, seed);
}

}  // namespace spikeline::hpo::detail
