// tests/unit/control/state_store_test.cc — atomic save, strict load, corrupt files untouched.
#include "control/state_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace vsw::control {
namespace {

namespace fs = std::filesystem;

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "vsw-state-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static void write(const fs::path& p, std::string_view text) {
    std::ofstream out(p, std::ios::trunc);
    out << text;
  }

  static ConfigModel sample() {
    ConfigModel cfg;
    cfg.bridges.push_back(
        BridgeModel{"br0", {60, 1024, {}}, {PortModel{"tap0", "tap", {{"ifname", "t0"}}, {}}}, {}});
    cfg.bridges.push_back(BridgeModel{"br1", {}, {}, {}});
    return cfg;
  }

  fs::path dir_;
};

TEST_F(StateStoreTest, MissingFileIsEmptyConfig) {
  StateStore store(dir_ / "state.json");
  auto r = store.load();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->has_value());
}

TEST_F(StateStoreTest, SaveThenLoadRoundTrips) {
  StateStore store(dir_ / "sub" / "state.json");  // the directory is created
  ASSERT_TRUE(store.save(sample()));
  auto r = store.load();
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(**r, sample());
  // No temporary file is left behind.
  size_t files = 0;
  for (auto& e : fs::directory_iterator(dir_ / "sub")) files += e.is_regular_file();
  EXPECT_EQ(files, 1u);

  ConfigModel smaller;
  ASSERT_TRUE(store.save(smaller));
  EXPECT_EQ(**store.load(), smaller);
}

TEST_F(StateStoreTest, CorruptFileIsAnErrorNamingTheFileAndIsNotTouched) {
  const fs::path file = dir_ / "state.json";
  const std::string garbage = "{\"bridges\": [ {\"name\": \"br0\", ";  // truncated
  write(file, garbage);
  StateStore store(file);
  auto r = store.load();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  EXPECT_NE(r.error().message.find(file.string()), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("corrupt"), std::string::npos);
  EXPECT_EQ(slurp(file), garbage);
}

TEST_F(StateStoreTest, SchemaViolationIsAnError) {
  const fs::path file = dir_ / "state.json";
  write(file, R"({"bridges":[{"name":"br0","aging_s":"x"}]})");
  auto r = StateStore(file).load();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("invalid"), std::string::npos) << r.error().message;
  write(file, "");
  EXPECT_FALSE(StateStore(file).load());
  write(file, std::string(1000, '['));
  EXPECT_FALSE(StateStore(file).load());
}

TEST_F(StateStoreTest, DirectoryInsteadOfFileIsAnError) {
  fs::create_directory(dir_ / "state.json");
  EXPECT_FALSE(StateStore(dir_ / "state.json").load());
}

TEST_F(StateStoreTest, SaveFailureLeavesOldFileAndNoTemporary) {
  const fs::path file = dir_ / "state.json";
  StateStore store(file);
  ASSERT_TRUE(store.save(sample()));
  const std::string before = slurp(file);
  // A directory where the temporary file goes makes the save fail, even for root.
  fs::create_directory(dir_ / ".state.json.tmp");
  Status st = store.save(ConfigModel{});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::Io);
  EXPECT_EQ(slurp(file), before);
}

TEST_F(StateStoreTest, TopologyFileReader) {
  auto missing = read_topology_file(dir_ / "nope.json", "config file");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::NotFound);
  write(dir_ / "t.json", R"({"bridges":[{"name":"br0"}]})");
  auto r = read_topology_file(dir_ / "t.json", "config file");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bridges.size(), 1u);
}

}  // namespace
}  // namespace vsw::control
