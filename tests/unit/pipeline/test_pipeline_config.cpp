// The pipeline config loader: defaults, strict keys and types, --set edits, path resolution, and
// every shipped pipeline config.
#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

#include "spikeline/core/error.hpp"
#include "spikeline/pipeline/pipeline_config.hpp"
#include "spikeline/train/config.hpp"
#include "support/cli.hpp"

namespace spikeline::pipeline {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

PipelineConfig from_yaml(const std::string& yaml, const std::vector<std::string>& sets = {},
                         const fs::path& base = "/cfg", const fs::path& cwd = "/work") {
  return resolve_config(train::config_document_from_yaml(yaml, "p.yaml"), "p.yaml", base, sets, cwd);
}

// The InputError message of loading `yaml` (empty when it loads).
std::string error_of(const std::string& yaml, const std::vector<std::string>& sets = {}) {
  try {
    from_yaml(yaml, sets);
  } catch (const InputError& e) {
    return e.what();
  }
  return {};
}

TEST(PipelineConfig, EmptyDocumentGivesEveryDefault) {
  const PipelineConfig c = from_yaml("{}");
  EXPECT_EQ(c.chip, Chip::xylo);
  for (auto name : kStageNames) EXPECT_TRUE(c.doc.contains(std::string(name))) << name;
  EXPECT_EQ(c.doc["data"]["source"], "synthetic");
  EXPECT_EQ(c.doc["hpo"]["trials"], 8);
  // The train section is resolved by the training config's own reader: every key, Xylo target.
  EXPECT_EQ(c.doc["train"]["model"]["target"], "xylo");
  EXPECT_EQ(c.doc["train"]["epochs"], 1500);
  EXPECT_FALSE(c.doc["train"].contains("data"));
  EXPECT_TRUE(c.enabled(Stage::hpo));
  EXPECT_FALSE(c.enabled(Stage::tasks));
  EXPECT_FALSE(c.enabled(Stage::qat));
}

TEST(PipelineConfig, UnknownKeysAndWrongTypesNameTheKey) {
  EXPECT_NE(error_of("data: {splitt: subject}").find("p.yaml: data.splitt: unknown key"), std::string::npos);
  EXPECT_NE(error_of("bogus: 1").find("p.yaml: bogus: unknown key"), std::string::npos);
  EXPECT_NE(error_of("data: {window: x}").find("p.yaml: data.window: must be an integer, got a string"),
            std::string::npos);
  EXPECT_NE(error_of("hpo: {trials: 2.5}").find("p.yaml: hpo.trials: must be an integer"), std::string::npos);
  EXPECT_NE(error_of("hpo: {enabled: 1}").find("hpo.enabled: must be a boolean"), std::string::npos);
  EXPECT_NE(error_of("data: {split: random}").find("p.yaml: data.split: 'random' is not one of"), std::string::npos);
  EXPECT_NE(error_of("chip: loihi").find("p.yaml: chip:"), std::string::npos);
  EXPECT_NE(error_of("hpo: {trials: 0}").find("p.yaml: hpo.trials: must be >= 1"), std::string::npos);
  EXPECT_NE(error_of("quantize: {split: dev}").find("p.yaml: quantize.split"), std::string::npos);
  // A number where a float is expected may be written as an integer.
  EXPECT_EQ(error_of("data: {synthetic: {seconds: 30}}"), "");
}

TEST(PipelineConfig, StageSectionsAreCheckedWhereTheyMeetOtherKeys) {
  EXPECT_NE(error_of("data: {task: 2CB}").find("p.yaml: data.tasks_file: is required with data.task"),
            std::string::npos);
  EXPECT_NE(error_of("data: {task: 2CB, tasks_file: t.json, classes: [walking]}").find("data.task"),
            std::string::npos);
  EXPECT_NE(error_of("train: {data: {file: x.npz}}").find("p.yaml: train.data: is set by the pipeline"),
            std::string::npos);
  EXPECT_NE(error_of("train: {optim: {lr: -1}}").find("p.yaml: train"), std::string::npos);
  EXPECT_NE(error_of("train: {epochz: 3}").find("epochz"), std::string::npos);
  // Every search-space parameter needs a train config key to land on.
  EXPECT_NE(error_of("hpo: {search_space: {lr: {_type: choice, _value: [0.1]}}}")
                .find("p.yaml: hpo.map: has no entry for search-space parameter 'lr'"),
            std::string::npos);
  EXPECT_EQ(error_of("hpo: {search_space: {lr: {_type: choice, _value: [0.1]}}, map: {lr: optim.lr}}"), "");
  EXPECT_NE(error_of("data: {enabled: false}").find("p.yaml: data.windows: is required"), std::string::npos);
  EXPECT_NE(error_of("encode: {enabled: false}").find("p.yaml: encode.spikes: is required"), std::string::npos);
  EXPECT_NE(error_of("hpo: {max_duration: soon}").find("hpo.max_duration"), std::string::npos);
  EXPECT_NE(error_of("tasks: {enabled: true}\ndata: {task: 2CB, tasks_file: t.json}").find("tasks.enabled"),
            std::string::npos);
}

TEST(PipelineConfig, SetEditsAreCheckedLikeFileKeysAndMergeIntoFreeFormSections) {
  const PipelineConfig c = from_yaml("train: {epochs: 40, batch_size: 64}", {"data.split=thesis", "train.epochs=3"});
  EXPECT_EQ(c.doc["data"]["split"], "thesis");
  EXPECT_EQ(c.doc["train"]["epochs"], 3);
  EXPECT_EQ(c.doc["train"]["batch_size"], 64);  // the rest of the free-form section stays
  EXPECT_NE(error_of("{}", {"data.splitt=thesis"}).find("--set: data.splitt: unknown key"), std::string::npos);
  EXPECT_NE(error_of("{}", {"hpo.trials=many"}).find("--set: hpo.trials: must be an integer"), std::string::npos);
}

TEST(PipelineConfig, PathsResolveAgainstTheConfigFolderOrForSetTheCurrentDirectory) {
  const PipelineConfig c = from_yaml("data: {wisdm: raw/wisdm, tasks_file: /abs/t.json}");
  EXPECT_EQ(c.doc["data"]["wisdm"], "/cfg/raw/wisdm");
  EXPECT_EQ(c.doc["data"]["tasks_file"], "/abs/t.json");
  const PipelineConfig s = from_yaml("data: {wisdm: raw/wisdm}", {"data.wisdm=../shared/wisdm"});
  EXPECT_EQ(s.doc["data"]["wisdm"], "/shared/wisdm");
}

TEST(PipelineConfig, WisdmDirComesFromTheKeyOrTheEnvironment) {
  const auto dir = test::scratch_dir("pipeline_wisdm_env");
  ::unsetenv(kWisdmEnv);
  const PipelineConfig none = from_yaml("data: {source: wisdm}");
  try {
    wisdm_dir(none);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("p.yaml: data.wisdm: is required"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find(kWisdmEnv), std::string::npos);
  }
  ::setenv(kWisdmEnv, dir.c_str(), 1);
  EXPECT_EQ(wisdm_dir(none), dir);
  ::unsetenv(kWisdmEnv);
  EXPECT_EQ(wisdm_dir(from_yaml("data: {wisdm: " + dir.string() + "}")), dir);
  EXPECT_THROW(wisdm_dir(from_yaml("data: {wisdm: /no/such/dir}")), InputError);
}

TEST(PipelineConfig, StageNames) {
  EXPECT_EQ(stage_from_name("quantize", "--from"), Stage::quantize);
  try {
    stage_from_name("tune", "--from");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--from: unknown stage 'tune' (stages: data, encode"), std::string::npos);
  }
}

TEST(PipelineConfig, ResolvedYamlReadsBackAsTheSameDocument) {
  const PipelineConfig c = load_config(fs::path(SPIKELINE_SOURCE_DIR) / "configs" / "pipeline_demo.yaml");
  const json back = train::config_document_from_yaml(to_yaml(c.doc), "resolved.yaml");
  EXPECT_EQ(back, c.doc);
  EXPECT_EQ(to_yaml(json{{"a", "true"}, {"b", "1.5"}, {"c", ""}, {"d", json::array()}, {"e", "x: y"}}),
            "a: \"true\"\nb: \"1.5\"\nc: \"\"\nd: []\ne: \"x: y\"\n");
}

// Every shipped pipeline config loads with this loader; the thesis configs name their task's classes.
TEST(PipelineConfig, ShippedPipelineConfigsParse) {
  const fs::path configs = fs::path(SPIKELINE_SOURCE_DIR) / "configs";
  EXPECT_NO_THROW(load_config(configs / "pipeline_demo.yaml"));
  int xylo = 0, dynapse2 = 0;
  for (const auto& e : fs::directory_iterator(configs / "pipeline")) {
    if (e.path().extension() != ".yaml") continue;
    SCOPED_TRACE(e.path().string());
    PipelineConfig c;
    ASSERT_NO_THROW(c = load_config(e.path()));
    const std::string name = e.path().stem().string();
    const std::string task = name.substr(name.find('_') + 1);
    EXPECT_EQ(c.doc["data"]["task"].get<std::string>().size(), 3u);
    EXPECT_EQ(c.doc["data"]["split"], "thesis");
    EXPECT_EQ(configured_classes(c).size(), static_cast<std::size_t>(task[0] - '0'));
    (c.chip == Chip::xylo ? xylo : dynapse2) += 1;
  }
  EXPECT_EQ(xylo, 8);
  EXPECT_EQ(dynapse2, 6);
  const auto c = load_config(configs / "pipeline" / "xylo_2cb.yaml", {"data.split=subject"});
  EXPECT_EQ(configured_classes(c), (std::vector<std::string>{"dribbling_basketball", "typing"}));
  EXPECT_EQ(c.doc["data"]["split"], "subject");
}

}  // namespace
}  // namespace spikeline::pipeline
