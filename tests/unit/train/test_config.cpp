// Config parsing: defaults, every key read back, unknown keys and bad values named by key path,
// overrides, and the thesis's task names.
#include <gtest/gtest.h>

#include "spikeline/core/error.hpp"
#include "spikeline/train/config.hpp"
#include "support/shared.hpp"

namespace spikeline::train {
namespace {

using nlohmann::json;

std::string error_of(const json& doc) {
  try {
    config_from_json(doc, "run.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Config, DefaultsAreTheThesisRecipe) {
  const TrainConfig c = config_from_json({{"data", {{"file", "s.npz"}}}}, "run.json");
  EXPECT_EQ(c.model.architecture, "ff_deep_deep_res");
  EXPECT_EQ(c.model.hidden, 256);
  EXPECT_DOUBLE_EQ(c.optim.lr, 1e-3);
  EXPECT_EQ(c.batch_size, 1024);
  EXPECT_EQ(c.epochs, 1500);
  EXPECT_EQ(c.prune.max_fan_out, 0);
}

TEST(Config, ResolvedConfigReadsBackEqual) {
  json doc = {{"data", {{"file", "/d/s.npz"}, {"classes", {"dribbling", "typing"}}}},
              {"model", {{"architecture", "rec_simple"}, {"hidden", 32}, {"target", "xylo"},
                         {"neuron", {{"tau_mem", 0.05}, {"spike_fn", "periodic_exponential"}}}}},
              {"optim", {{"lr", 0.01}, {"schedule", "exponential"}, {"gamma", 0.99}}},
              {"prune", {{"max_fan_out", 63}, {"every", 10}}},
              {"early_stop", {{"window", 100}}},
              {"epochs", 7}, {"seed", 3}};
  const TrainConfig c = config_from_json(doc, "run.json");
  const json resolved = config_to_json(c);
  EXPECT_EQ(config_to_json(config_from_json(resolved, "resolved.json")), resolved);
  EXPECT_EQ(c.model.neuron.spike_fn, "periodic_exponential");
  EXPECT_EQ(c.prune.max_fan_out, 63);
  EXPECT_EQ(c.early_stop.window, 100);
}

TEST(Config, UnknownKeysAndBadValuesNameTheKeyPath) {
  EXPECT_NE(error_of({{"data", {{"file", "s"}}}, {"epoch", 3}}).find("run.json: epoch: unknown key"), std::string::npos);
  EXPECT_NE(error_of({{"data", {{"file", "s"}}}, {"model", {{"neuron", {{"tau", 1}}}}}}).find("model.neuron.tau: unknown key"),
            std::string::npos);
  EXPECT_NE(error_of({{"data", {{"file", "s"}}}, {"optim", {{"lr", -1}}}}).find("optim.lr"), std::string::npos);
  EXPECT_NE(error_of({{"data", {{"file", "s"}}}, {"epochs", "many"}}).find("epochs: must be an integer"), std::string::npos);
  EXPECT_NE(error_of({{"data", {{"file", "s"}}}, {"model", {{"architecture", "cnn"}}}}).find("model.architecture"),
            std::string::npos);
  EXPECT_NE(error_of(json::object()).find("data.file: is required"), std::string::npos);
}

TEST(Config, OverridesEditTheDocument) {
  json doc = {{"data", {{"file", "s.npz"}}}};
  apply_override(doc, "optim.lr=0.01");
  apply_override(doc, "model.architecture=rec_deep");
  apply_override(doc, "epochs=4");
  const TrainConfig c = config_from_json(doc, "run.json");
  EXPECT_DOUBLE_EQ(c.optim.lr, 0.01);
  EXPECT_EQ(c.model.architecture, "rec_deep");
  EXPECT_EQ(c.epochs, 4);
  EXPECT_THROW(apply_override(doc, "no_equals"), InputError);
  apply_override(doc, "optim.lrr=1");
  EXPECT_THROW(config_from_json(doc, "run.json"), InputError);
}

// The example training configs shipped in configs/ parse (their data files need not exist to be
// read). Other kinds of config there are named by their command: hpo_*, xylo_*, pipeline_*.
TEST(Config, ShippedExamplesParse) {
  const auto dir = std::filesystem::path(SPIKELINE_SOURCE_DIR) / "configs";
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json" && entry.path().extension() != ".yaml") continue;
    const std::string name = entry.path().filename().string();
    if (name.starts_with("hpo_") && name.find("_train") == std::string::npos) continue;
    if (name.starts_with("xylo_") || name.starts_with("pipeline_")) continue;
    EXPECT_NO_THROW(load_config(entry.path())) << entry.path();
    ++n;
  }
  EXPECT_GE(n, 3);
  EXPECT_EQ(config_to_json(load_config(dir / "demo_synthetic.yaml")),
            config_to_json(load_config(dir / "demo_synthetic.json")));
  const TrainConfig c = load_config(dir / "wisdm_2cb.json");
  EXPECT_EQ(c.model.architecture, "ff_deep_deep_res");
  EXPECT_EQ(c.prune.max_fan_out, 63);
  EXPECT_EQ(c.model.target, "xylo");
  EXPECT_TRUE(c.data.file.is_absolute());
}

TEST(Config, YamlReadsAsTheSameDocument) {
  const json doc = config_document_from_yaml(R"(
data:
  file: s.npz
  classes: [dribbling, typing]
model:
  architecture: rec_simple
  hidden: 32
  neuron: {tau_mem: 0.05, spike_fn: periodic_exponential}
optim:
  lr: 1e-2
epochs: 7
seed: 3
)", "run.yaml");
  const TrainConfig c = config_from_json(doc, "run.yaml");
  EXPECT_EQ(c.data.classes, (std::vector<std::string>{"dribbling", "typing"}));
  EXPECT_EQ(c.model.hidden, 32);
  EXPECT_DOUBLE_EQ(c.model.neuron.tau_mem, 0.05);
  EXPECT_DOUBLE_EQ(c.optim.lr, 0.01);
  EXPECT_EQ(c.epochs, 7);
  try {
    config_from_json(config_document_from_yaml("data: {file: s.npz}\nepoch: 3\n", "run.yaml"), "run.yaml");
    ADD_FAILURE() << "unknown key accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("run.yaml: epoch: unknown key"), std::string::npos) << e.what();
  }
  EXPECT_THROW(config_document_from_yaml("data: [1, 2\n", "bad.yaml"), InputError);
  // Raw bytes that are not UTF-8 (found by fuzz_json_inputs): a clear error, not a crash later.
  try {
    config_document_from_yaml("data: {file: \"s\xc8\x91\x84.npz\"}\n", "bin.yaml");
    ADD_FAILURE() << "invalid UTF-8 accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bin.yaml: invalid UTF-8"), std::string::npos) << e.what();
  }
  // A quoted number stays a string, so a wrong type is still caught.
  EXPECT_THROW(config_from_json(config_document_from_yaml("data: {file: s.npz}\nepochs: '3'\n", "q.yaml"), "q.yaml"),
               InputError);
}

TEST(Config, ThesisTaskNamesGiveActivities) {
  SPIKELINE_REQUIRE_SHARED(tasks, "fixtures/thesis/defined_tasks.json");
  EXPECT_EQ(task_classes(tasks, "2CB"), (std::vector<std::string>{"dribbling_basketball", "typing"}));
  EXPECT_THROW(task_classes(tasks, "9CB"), InputError);
}

}  // namespace
}  // namespace spikeline::train
