// FaultInjectionEnv: write / sync / cut sequences and exactly what survives them.
#include "common/fault_env.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace sluice {
namespace {

namespace fs = std::filesystem;

class FaultEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-fault-env-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    root_ = base_ + "/root";
    fs::create_directories(root_ + "/d");
    Put(root_ + "/old.txt", "durable");
    Put(root_ + "/d/inner.txt", "inner");
  }
  void TearDown() override { fs::remove_all(base_); }

  // Written past any Env, like DuckDB's own writes.
  static void Put(const std::string& path, const std::string& data) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
  }
  static void Append(const std::string& path, const std::string& data) {
    std::ofstream(path, std::ios::binary | std::ios::app) << data;
  }
  // Every path below root (dirs end in "/", symlinks as "-> target") with file contents.
  std::map<std::string, std::string> Tree() const {
    std::map<std::string, std::string> out;
    for (auto it = fs::recursive_directory_iterator(root_); it != fs::end(it); ++it) {
      std::string rel = it->path().lexically_relative(root_).string();
      if (it->is_symlink()) {
        out[rel] = "-> " + fs::read_symlink(it->path()).string();
      } else if (it->is_directory()) {
        out[rel + "/"] = "";
      } else {
        std::ifstream f(it->path(), std::ios::binary);
        out[rel] = std::string(std::istreambuf_iterator<char>(f), {});
      }
    }
    return out;
  }
  using TreeMap = std::map<std::string, std::string>;

  std::string base_, root_;
};

TEST_F(FaultEnvTest, NothingSyncedMeansNothingChanged) {
  FaultInjectionEnv env(root_);
  const TreeMap before = Tree();
  ASSERT_TRUE(env.CreateDirs(root_ + "/new/deep").ok());
  ASSERT_TRUE(env.WriteFile(root_ + "/new/deep/f", "x").ok());
  Put(root_ + "/duck.parquet", "written by someone else");
  Append(root_ + "/old.txt", " and more");
  ASSERT_TRUE(env.RemoveAll(root_ + "/d").ok());
  ASSERT_TRUE(env.Rename(root_ + "/old.txt", root_ + "/renamed.txt").ok());
  ASSERT_TRUE(env.PowerCut().ok());
  EXPECT_EQ(Tree(), before);
}

TEST_F(FaultEnvTest, FileSyncWithoutDirSyncLosesTheNewFile) {
  FaultInjectionEnv env(root_);
  ASSERT_TRUE(env.WriteFile(root_ + "/new.txt", "abc").ok());
  ASSERT_TRUE(env.SyncFile(root_ + "/new.txt").ok());
  ASSERT_TRUE(env.PowerCut().ok());
  EXPECT_FALSE(fs::exists(root_ + "/new.txt"));
}

TEST_F(FaultEnvTest, DirSyncWithoutFileSyncKeepsAnEmptyFile) {
  FaultInjectionEnv env(root_);
  ASSERT_TRUE(env.WriteFile(root_ + "/new.txt", "abc").ok());
  ASSERT_TRUE(env.SyncDir(root_).ok());
  ASSERT_TRUE(env.PowerCut().ok());
  EXPECT_EQ(Tree(), (TreeMap{{"d/", ""}, {"d/inner.txt", "inner"}, {"new.txt", ""}, {"old.txt", "durable"}}));
}

TEST_F(FaultEnvTest, GrowthPastTheLastFsyncIsCut) {
  FaultInjectionEnv env(root_);
  Append(root_ + "/old.txt", "+synced");
  ASSERT_TRUE(env.SyncFile(root_ + "/old.txt").ok());
  Append(root_ + "/old.txt", "+lost");
  ASSERT_TRUE(env.PowerCut().ok());
  EXPECT_EQ(Tree()["old.txt"], "durable+synced");
}

TEST_F(FaultEnvTest, AtomicWriteIsAllOrNothing) {
  FaultInjectionEnv env(root_);
  ASSERT_TRUE(env.WriteFileAtomic(root_ + "/old.txt", "replaced").ok());
  ASSERT_TRUE(env.WriteFile(root_ + "/d/inner.txt", "rewritten, never synced").ok());
  ASSERT_TRUE(env.PowerCut().ok());
  EXPECT_EQ(Tree(), (TreeMap{{"d/", ""}, {"d/inner.txt", "inner"}, {"old.txt", "replaced"}}));
}

TEST_F(FaultEnvTest, RenameIsUndoneUntilItsDirectoryIsSynced) {
  FaultInjectionEnv env(root_);
  ASSERT_TRUE(env.Rename(root_ + "/d/inner.txt", root_ + "/moved.txt").ok());
  ASSERT_TRUE(env.SyncDir(root_).ok());  // the new name durable, the old one not yet gone
  ASSERT_TRUE(env.PowerCut().ok());
  EXPECT_EQ(Tree(),
            (TreeMap{{"d/", ""}, {"d/inner.txt", "inner"}, {"moved.txt", "inner"}, {"old.txt", "durable"}}));

  FaultInjectionEnv env2(root_);
  ASSERT_TRUE(env2.Rename(root_ + "/d", root_ + "/e").ok());  // a directory, contents and all
  ASSERT_TRUE(env2.PowerCut().ok());
  EXPECT_TRUE(fs::exists(root_ + "/d/inner.txt"));
  EXPECT_FALSE(fs::exists(root_ + "/e"));
  ASSERT_TRUE(env2.Rename(root_ + "/d", root_ + "/e").ok());
  ASSERT_TRUE(env2.SyncDir(root_).ok());
  ASSERT_TRUE(env2.PowerCut().ok());
  EXPECT_EQ(Tree()["e/inner.txt"], "inner");
  EXPECT_FALSE(fs::exists(root_ + "/d"));
}

TEST_F(FaultEnvTest, SyncfsMakesEverythingDurableWhoeverWroteIt) {
  FaultInjectionEnv env(root_);
  ASSERT_TRUE(env.CreateDirs(root_ + "/tmp/b1").ok());
  Put(root_ + "/tmp/b1/part.parquet", "rows");  // as DuckDB's COPY writes it
  ASSERT_TRUE(env.SyncFileSystem(root_ + "/tmp/b1").ok());
  Put(root_ + "/tmp/b1/later.parquet", "not synced");
  Append(root_ + "/tmp/b1/part.parquet", " grown");
  ASSERT_TRUE(env.PowerCut().ok());
  EXPECT_EQ(Tree(), (TreeMap{{"d/", ""},
                             {"d/inner.txt", "inner"},
                             {"old.txt", "durable"},
                             {"tmp/", ""},
                             {"tmp/b1/", ""},
                             {"tmp/b1/part.parquet", "rows"}}));
}

TEST_F(FaultEnvTest, SymlinkSwapNeedsTheDirectorySync) {
  FaultInjectionEnv env(root_);
  ASSERT_TRUE(env.Symlink("d", root_ + "/current").ok());
  ASSERT_TRUE(env.SyncDir(root_).ok());
  ASSERT_TRUE(env.CreateDirs(root_ + "/v2").ok());
  ASSERT_TRUE(env.Symlink("v2", root_ + "/current.tmp").ok());
  ASSERT_TRUE(env.Rename(root_ + "/current.tmp", root_ + "/current").ok());
  ASSERT_TRUE(env.PowerCut().ok());
  EXPECT_EQ(Tree()["current"], "-> d");
  EXPECT_FALSE(fs::exists(root_ + "/v2"));

  ASSERT_TRUE(env.CreateDirs(root_ + "/v2").ok());
  ASSERT_TRUE(env.Symlink("v2", root_ + "/current.tmp").ok());
  ASSERT_TRUE(env.Rename(root_ + "/current.tmp", root_ + "/current").ok());
  ASSERT_TRUE(env.SyncDir(root_).ok());
  ASSERT_TRUE(env.PowerCut().ok());
  EXPECT_EQ(Tree()["current"], "-> v2");
  EXPECT_EQ(Tree().count("current.tmp"), 0u);
}

TEST_F(FaultEnvTest, HardLinksShareTheirDurableContent) {
  FaultInjectionEnv env(root_);
  ASSERT_TRUE(env.LinkFile(root_ + "/old.txt", root_ + "/d/link.txt").ok());
  ASSERT_TRUE(env.SyncDir(root_ + "/d").ok());
  ASSERT_TRUE(env.RemoveAll(root_ + "/old.txt").ok());  // the removal is never synced
  ASSERT_TRUE(env.PowerCut().ok());
  EXPECT_EQ(
      Tree(),
      (TreeMap{{"d/", ""}, {"d/inner.txt", "inner"}, {"d/link.txt", "durable"}, {"old.txt", "durable"}}));
  EXPECT_EQ(fs::hard_link_count(root_ + "/old.txt"), 2u);
}

TEST_F(FaultEnvTest, DuckDbFilesAreLeftAsTheyAre) {
  FaultInjectionEnv env(root_);
  Put(root_ + "/d/lake.duckdb", "database");
  Put(root_ + "/d/lake.duckdb.wal", "wal");
  ASSERT_TRUE(env.PowerCut().ok());
  EXPECT_EQ(Tree()["d/lake.duckdb"], "database");
  EXPECT_EQ(Tree()["d/lake.duckdb.wal"], "wal");
}

TEST_F(FaultEnvTest, KeptAsideFilesDoNotOutliveTheCut) {
  FaultInjectionEnv env(root_);
  ASSERT_TRUE(env.RemoveAll(root_ + "/d").ok());
  ASSERT_TRUE(env.SyncDir(root_).ok());
  ASSERT_TRUE(env.PowerCut().ok());
  EXPECT_EQ(Tree(), (TreeMap{{"old.txt", "durable"}}));
  EXPECT_FALSE(fs::exists(root_ + ".powercut"));
}

TEST_F(FaultEnvTest, FailsExactlyTheNthMutation) {
  FaultInjectionEnv env(root_);
  env.FailNthMutation(3);
  EXPECT_TRUE(env.CreateDirs(root_ + "/a").ok());          // 1
  EXPECT_TRUE(env.WriteFile(root_ + "/a/f", "x").ok());    // 2
  Status st = env.Rename(root_ + "/a/f", root_ + "/a/g");  // 3: fails, does nothing
  EXPECT_EQ(st.code(), StatusCode::kIOError) << st.ToString();
  EXPECT_NE(st.message().find(root_ + "/a/f"), std::string::npos) << st.ToString();
  EXPECT_TRUE(fs::exists(root_ + "/a/f"));
  EXPECT_FALSE(fs::exists(root_ + "/a/g"));
  EXPECT_TRUE(env.Rename(root_ + "/a/f", root_ + "/a/g").ok());  // 4: only the 3rd fails
  EXPECT_EQ(env.mutations(), 4);
  EXPECT_TRUE(env.Exists(root_ + "/a/g"));  // reads are never counted
  EXPECT_EQ(env.mutations(), 4);

  // Inside WriteFileAtomic: the fsync (its 2nd part) fails, and the target is untouched.
  env.FailNthMutation(2);
  st = env.WriteFileAtomic(root_ + "/old.txt", "new");
  EXPECT_EQ(st.code(), StatusCode::kIOError);
  EXPECT_EQ(Tree()["old.txt"], "durable");
}

// The POSIX Env's file calls the fault model builds on (env.h contracts).
TEST_F(FaultEnvTest, PosixEnvFileCalls) {
  Env* env = Env::Default();
  auto names = env->ListDir(root_);
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(*names, (std::vector<std::string>{"d", "old.txt"}));
  auto none = env->ListDir(root_ + "/missing");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  ASSERT_TRUE(env->Symlink("d", root_ + "/current").ok());
  auto target = env->ReadSymlink(root_ + "/current");
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(*target, "d");
  EXPECT_EQ(env->ReadSymlink(root_ + "/nothing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(env->ReadSymlink(root_ + "/old.txt").status().code(), StatusCode::kIOError);
  EXPECT_FALSE(env->Symlink("d", root_ + "/current").ok()) << "an existing link is not replaced";

  ASSERT_TRUE(env->LinkFile(root_ + "/old.txt", root_ + "/d/same.txt").ok());
  EXPECT_EQ(fs::hard_link_count(root_ + "/old.txt"), 2u);
  ASSERT_TRUE(env->Truncate(root_ + "/d/same.txt", 3).ok());
  auto size = env->FileSize(root_ + "/old.txt");
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 3u) << "one inode";
  EXPECT_EQ(env->FileSize(root_ + "/missing").status().code(), StatusCode::kIOError);

  EXPECT_EQ(env->RemoveDir(root_ + "/d").code(), StatusCode::kIOError) << "not empty";
  ASSERT_TRUE(env->CreateDirs(root_ + "/empty").ok());
  EXPECT_TRUE(env->RemoveDir(root_ + "/empty").ok());
  EXPECT_FALSE(env->Exists(root_ + "/empty"));
  ASSERT_TRUE(env->RemoveAll(root_ + "/current").ok());
  EXPECT_TRUE(fs::exists(root_ + "/d/inner.txt")) << "RemoveAll of a symlink keeps its target";
}

}  // namespace
}  // namespace sluice
