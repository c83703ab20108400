// Unit tests of the trial-file guards and the log tail (no HTTP).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "spikeline/server/http_error.hpp"
#include "spikeline/server/trial_files.hpp"
#include "support/cli.hpp"

namespace fs = std::filesystem;
using namespace spikeline::server;

TEST(TrialFiles, SafeNames) {
  for (const char* ok : {"trial.stdout", "parameter.cfg", "model_1.json", "a-b"}) {
    EXPECT_TRUE(is_safe_file_name(ok)) << ok;
  }
  for (const char* bad : {"", ".", "..", "../x", "/etc/passwd", "a/b", ".nni", "a\\b", "x y",
                          "a%2fb", "\xc3\xa9"}) {
    EXPECT_FALSE(is_safe_file_name(bad)) << bad;
  }
  EXPECT_FALSE(is_safe_file_name(std::string(129, 'a')));
}

TEST(TrialFiles, TailCutsAtALineStart) {
  const auto dir = spikeline::test::scratch_dir("tail");
  std::ofstream(dir / "log") << "line1\nline2\nline3\n";
  const auto whole = read_tail(dir / "log", 100);
  EXPECT_EQ(whole.text, "line1\nline2\nline3\n");
  EXPECT_FALSE(whole.truncated);
  EXPECT_EQ(whole.size, 18u);
  // The last 8 bytes are "2\nline3\n": the partial "2" line is dropped.
  const auto tail = read_tail(dir / "log", 8);
  EXPECT_TRUE(tail.truncated);
  EXPECT_EQ(tail.text, "line3\n");
  EXPECT_EQ(read_tail(dir / "absent", 10).size, 0u);
}

TEST(TrialFiles, TrialDirectoryMustStayInsideTheExperiment) {
  const auto root = spikeline::test::scratch_dir("tdir");
  const auto exp = root / "exp";
  fs::create_directories(exp / "trials" / "abcde");
  fs::create_directories(root / "outside");
  EXPECT_EQ(trial_directory(exp, "", "abcde"), fs::canonical(exp / "trials" / "abcde"));
  EXPECT_EQ(trial_directory(exp, "trials/abcde", "x"), fs::canonical(exp / "trials" / "abcde"));
  EXPECT_EQ(trial_directory(exp, (exp / "trials" / "abcde").string(), "x"),
            fs::canonical(exp / "trials" / "abcde"));
  EXPECT_FALSE(trial_directory(exp, (root / "outside").string(), "x"));
  EXPECT_FALSE(trial_directory(exp, "../outside", "x"));
  EXPECT_FALSE(trial_directory(exp, "", "../../outside"));
  EXPECT_FALSE(trial_directory(exp, "", "nope"));
  // A trial directory that is a symlink pointing outside is refused too.
  fs::create_directory_symlink(root / "outside", exp / "trials" / "linked");
  EXPECT_FALSE(trial_directory(exp, "", "linked"));
}

TEST(TrialFiles, FileLookupRefusesLinksAndBadNames) {
  const auto root = spikeline::test::scratch_dir("tfile");
  const auto t = root / "t";
  fs::create_directories(t / "sub");
  std::ofstream(t / "trial.stdout") << "out\n";
  std::ofstream(root / "secret") << "secret\n";
  fs::create_symlink(root / "secret", t / "leak");
  EXPECT_EQ(trial_file(t, "trial.stdout"), t / "trial.stdout");
  auto status_of = [&](const char* name) {
    try {
      trial_file(t, name);
    } catch (const HttpError& e) {
      return e.status();
    }
    return 200;
  };
  EXPECT_EQ(status_of("leak"), 403);
  EXPECT_EQ(status_of("sub"), 403);
  EXPECT_EQ(status_of("missing"), 404);
  EXPECT_EQ(status_of("../secret"), 400);
  EXPECT_EQ(status_of("/etc/passwd"), 400);
  const auto files = list_trial_files(t);
  ASSERT_EQ(files.size(), 1u);  // the symlink and the directory are not listed
  EXPECT_EQ(files[0].name, "trial.stdout");
  EXPECT_EQ(files[0].size, 4u);
}
