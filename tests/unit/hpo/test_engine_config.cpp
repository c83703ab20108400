// Experiment configs: the thesis's 17 JSON files with the launcher's defaults, NNI-style YAML with
// case/underscore-insensitive keys, durations, built-in trials, and clear errors for bad inputs.
#include <gtest/gtest.h>

#include <fstream>

#include "spikeline/core/error.hpp"
#include "spikeline/hpo/experiment_config.hpp"
#include "support/cli.hpp"
#include "support/shared.hpp"

namespace spikeline::hpo {
namespace {

using json = nlohmann::ordered_json;
using ojson = nlohmann::ordered_json;

std::string error_of(const json& doc, const std::filesystem::path& base = ".") {
  try {
    experiment_config_from_json(doc, "exp.json", base);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(HpoConfig, ThesisConfigsLoadWithTheLaunchersDefaults) {
  SPIKELINE_REQUIRE_SHARED(dir, "fixtures/thesis/configs");
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    ++n;
    SCOPED_TRACE(entry.path().string());
    const auto raw = ojson::parse(std::ifstream(entry.path()));
    std::vector<std::string> warnings;
    const auto c = load_experiment_config(entry.path(), &warnings);
    EXPECT_TRUE(warnings.empty()) << warnings.front();
    EXPECT_EQ(c.trial_command, raw["trial_command"].get<std::string>());
    EXPECT_EQ(c.search_space.dump(), raw["search_space"].dump());  // same keys, same order
    EXPECT_EQ(c.max_trial_number, raw["max_trial_number"].get<std::int64_t>());
    EXPECT_EQ(c.tuner.name, "Anneal");
    EXPECT_EQ(c.optimize_mode(), "maximize");
    ASSERT_TRUE(c.assessor.has_value());
    EXPECT_EQ(c.assessor->name, "Medianstop");
    EXPECT_EQ(c.assessor->class_args["start_step"], raw["assessor_start_step"]);
    EXPECT_EQ(c.assessor->class_args["optimize_mode"], "maximize");
    EXPECT_EQ(c.max_duration_s, 72.0 * 3600.0);
    EXPECT_EQ(c.concurrency, 1);
    EXPECT_EQ(c.code_dir, std::filesystem::current_path());  // the launcher's "." = where it runs
    EXPECT_EQ(c.max_retries, 1);
    // The resolved config reads back to the same settings.
    const auto back = experiment_config_from_json(json::parse(c.to_json().dump()), "resolved", "/");
    EXPECT_EQ(back.to_json().dump(), c.to_json().dump());
  }
  EXPECT_EQ(n, 17);
}

TEST(HpoConfig, NniYamlConfigWithMixedKeySpellings) {
  const auto dir = test::scratch_dir("hpo_cfg_yaml");
  test::write_text(dir / "space.json", R"({"lr": {"_type": "loguniform", "_value": [0.0001, 0.1]},
                                           "batch": {"_type": "choice", "_value": [16, 32]}})");
  test::write_text(dir / "exp.yaml", R"(experimentName: mnist
trialCommand: python3 mnist.py
trial_code_directory: code
trialConcurrency: 2
max_trial_number: 10
maxExperimentDuration: 1.5h
MaxTrialDuration: 90s
searchSpaceFile: space.json
tuner:
  name: TPE
  classArgs:
    optimize_mode: minimize
assessor:
  name: Medianstop
  class_args: {start_step: 5}
trainingService:
  platform: local
  useActiveGpu: true
trialGpuNumber: 0
logLevel: debug
seed: 7
max_retries: 3
)");
  std::vector<std::string> warnings;
  const auto c = load_experiment_config(dir / "exp.yaml", &warnings);
  EXPECT_EQ(c.name, "mnist");
  EXPECT_EQ(c.trial_command, "python3 mnist.py");
  EXPECT_EQ(c.code_dir, (dir / "code").lexically_normal());  // NNI: relative to the config file
  EXPECT_EQ(c.concurrency, 2);
  EXPECT_EQ(c.max_trial_number, 10);
  EXPECT_EQ(c.max_duration_s, 5400.0);
  EXPECT_EQ(c.max_trial_duration_s, 90.0);
  EXPECT_EQ(c.search_space.begin().key(), "lr");  // file order kept
  EXPECT_EQ(c.tuner.name, "TPE");
  EXPECT_EQ(c.optimize_mode(), "minimize");
  ASSERT_TRUE(c.assessor.has_value());
  EXPECT_EQ(c.assessor->class_args["start_step"], 5);
  EXPECT_EQ(c.seed, 7u);
  EXPECT_EQ(c.max_retries, 3);
  ASSERT_EQ(warnings.size(), 2u);  // logLevel unknown; trialGpuNumber ignored
  EXPECT_NE((warnings[0] + warnings[1]).find("logLevel"), std::string::npos);
  EXPECT_NE((warnings[0] + warnings[1]).find("trialGpuNumber"), std::string::npos);
}

TEST(HpoConfig, YamlSearchSpaceKeepsTheFilesOrder) {
  // The order is the order the tuner draws parameters in, so YAML must not sort it.
  const auto dir = test::scratch_dir("hpo_cfg_yaml_order");
  test::write_text(dir / "exp.yaml", R"(trialCommand: "true"
searchSpace:
  zeta: {_type: uniform, _value: [0, 1]}
  alpha: {_type: choice, _value: [1, 2]}
  mid: {_type: randint, _value: [0, 4]}
tuner: {name: Random}
)");
  const auto c = load_experiment_config(dir / "exp.yaml");
  std::vector<std::string> keys;
  for (auto it = c.search_space.begin(); it != c.search_space.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"zeta", "alpha", "mid"}));
  test::write_text(dir / "bad.json", "{\"trialCommand\": \"true\",\n \"searchSpace\": {,}}");
  try {
    load_experiment_config(dir / "bad.json");
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("invalid JSON at byte"), std::string::npos) << e.what();
  }
}

TEST(HpoConfig, NniConfigWithoutAssessorHasNoneAndNoDurationLimit) {
  const auto c = experiment_config_from_json(
      json::parse(R"({"trialCommand": "true", "searchSpace": {"x": {"_type": "uniform", "_value": [0, 1]}},
                      "tuner": {"name": "Random"}})"),
      "exp.json", ".");
  EXPECT_FALSE(c.assessor.has_value());
  EXPECT_EQ(c.max_duration_s, -1.0);
  EXPECT_EQ(c.max_trial_number, -1);
}

TEST(HpoConfig, Durations) {
  EXPECT_EQ(parse_duration("72h", "d"), 259200.0);
  EXPECT_EQ(parse_duration("1.5d", "d"), 129600.0);
  EXPECT_EQ(parse_duration("10m", "d"), 600.0);
  EXPECT_EQ(parse_duration("0.5s", "d"), 1.0);  // NNI rounds up to whole seconds
  EXPECT_EQ(parse_duration(30, "d"), 30.0);
  EXPECT_THROW(parse_duration("72", "d"), InputError);
  EXPECT_THROW(parse_duration("72x", "d"), InputError);
  EXPECT_THROW(parse_duration("h", "d"), InputError);
  EXPECT_THROW(parse_duration("-1h", "d"), InputError);
  EXPECT_THROW(parse_duration(true, "d"), InputError);
}

TEST(HpoConfig, BadInputsNameTheKey) {
  const json space = {{"x", {{"_type", "uniform"}, {"_value", {0, 1}}}}};
  auto doc = [&](json extra) {
    json d = {{"trial_command", "true"}, {"search_space", space}};
    d.update(extra);
    return d;
  };
  EXPECT_NE(error_of(doc({{"trialConcurrency", "two"}})).find("exp.json: trialConcurrency: must be an integer, not a string"),
            std::string::npos);
  EXPECT_NE(error_of(doc({{"max_trial_number", 0}})).find("max_trial_number: must be >= 1"), std::string::npos);
  EXPECT_NE(error_of(doc({{"maxExperimentDuration", "3 days"}})).find("maxExperimentDuration: '3 days' is not a duration"),
            std::string::npos);
  EXPECT_NE(error_of(doc({{"maxTrialNumber", 3}, {"max_trial_number", 4}})).find("are the same key"), std::string::npos);
  EXPECT_NE(error_of(doc({{"tuner", {{"classArgs", json::object()}}}})).find("tuner: name: is required"), std::string::npos);
  EXPECT_NE(error_of(doc({{"tuner", 5}})).find("tuner: must be an object"), std::string::npos);
  EXPECT_NE(error_of(doc({{"search_space", json::array()}})).find("search_space: must be an object"), std::string::npos);
  EXPECT_NE(error_of(json{{"search_space", space}}).find("trialCommand (or a built-in trial"), std::string::npos);
  EXPECT_NE(error_of(json{{"trialCommand", "true"}}).find("searchSpace (or searchSpaceFile) is required"), std::string::npos);
  EXPECT_NE(error_of(doc({{"trainingService", {{"platform", "kubeflow"}}}})).find("platform: 'kubeflow' is not supported"),
            std::string::npos);
  EXPECT_NE(error_of(doc({{"searchSpaceFile", "nope.json"}, {"search_space", nullptr}})).find("file not found"),
            std::string::npos);
  EXPECT_NE(error_of(json::array()).find("must be an object"), std::string::npos);
}

TEST(HpoConfig, BuiltinTrialBecomesASpikelineTrainCommand) {
  const auto dir = test::scratch_dir("hpo_cfg_builtin");
  test::write_text(dir / "train.json", "{}");
  const auto c = experiment_config_from_json(
      json::parse(R"({"trial": {"spikeline_train": "train.json", "map": {"tau": "model.neuron.tau_mem"},
                                "set": {"epochs": 5}},
                      "search_space": {"tau": {"_type": "choice", "_value": [0.02]},
                                       "model.hidden": {"_type": "choice", "_value": [8]}}})"),
      "exp.json", dir);
  ASSERT_TRUE(c.builtin.has_value());
  const ojson params = ojson::parse(R"({"tau": 0.6900000000000001, "model.hidden": 8})");
  const auto cmd = builtin_trial_command(*c.builtin, "/opt/spike line", params, "/x/trials/abcDE");
  EXPECT_EQ(cmd, "'/opt/spike line' train --config '" + (dir / "train.json").lexically_normal().string() +
                     "' --set 'epochs=5' --set 'model.neuron.tau_mem=0.6900000000000001' --set 'model.hidden=8' "
                     "--out '/x/trials/abcDE/checkpoint' --quiet");
  EXPECT_NE(error_of(json::parse(R"({"trial": {"spikeline_train": "missing.json"}, "search_space": {}})"), dir)
                .find("trial: spikeline_train: file not found"),
            std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"trial": {"map": {}}, "search_space": {}})"), dir).find("spikeline_train: is required"),
            std::string::npos);
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
}

}  // namespace
}  // namespace spikeline::hpo
