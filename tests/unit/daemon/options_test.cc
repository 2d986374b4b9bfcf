// tests/unit/daemon/options_test.cc — vswitchd command-line parsing.
#include "daemon/options.h"

#include <gtest/gtest.h>

#include <vector>

namespace vsw::daemon {
namespace {

ParsedOptions parse(std::vector<const char*> args) {
  args.insert(args.begin(), "vswitchd");
  return parse_options(static_cast<int>(args.size()), args.data());
}

TEST(Options, Defaults) {
  auto p = parse({});
  ASSERT_TRUE(p.options);
  EXPECT_EQ(p.options->socket_path, "/run/vsw/vswitchd.sock");
  EXPECT_EQ(p.options->state_file, "/var/lib/vsw/state.json");
  EXPECT_EQ(p.options->run_dir, "/run/vsw");
  EXPECT_EQ(p.options->workers, 1);
  EXPECT_TRUE(p.options->cpus.empty());
  EXPECT_TRUE(p.options->hugepages);
  EXPECT_FALSE(p.options->ignore_state);
  EXPECT_EQ(p.options->idle_sleep_us, 50u);
}

TEST(Options, EverythingSet) {
  auto p = parse({"--socket", "/tmp/x.sock", "--state-file", "/tmp/s.json", "--run-dir", "/tmp/r",
                  "--workers", "2", "--cpus", "0-1,3", "--log-level", "info,dp=debug",
                  "--mempool-buffers", "4096", "--no-hugepages", "--idle-sleep-us", "0",
                  "--ignore-state"});
  ASSERT_TRUE(p.options);
  const Options& o = *p.options;
  EXPECT_EQ(o.socket_path, "/tmp/x.sock");
  EXPECT_EQ(o.state_file, "/tmp/s.json");
  EXPECT_EQ(o.run_dir, "/tmp/r");
  EXPECT_EQ(o.workers, 2);
  EXPECT_EQ(o.cpus, (std::vector<int>{0, 1, 3}));
  EXPECT_EQ(o.log_level, "info,dp=debug");
  EXPECT_EQ(o.mempool_buffers, 4096u);
  EXPECT_FALSE(o.hugepages);
  EXPECT_EQ(o.idle_sleep_us, 0u);
  EXPECT_TRUE(o.ignore_state);
}

TEST(Options, SocketDefaultsIntoRunDir) {
  auto p = parse({"--run-dir", "/tmp/vswt"});
  ASSERT_TRUE(p.options);
  EXPECT_EQ(p.options->socket_path, "/tmp/vswt/vswitchd.sock");
}

TEST(Options, UsageErrorsExitWith2) {
  EXPECT_EQ(parse({"--workers", "0"}).exit_code, 2);
  EXPECT_EQ(parse({"--workers", "many"}).exit_code, 2);
  EXPECT_EQ(parse({"--cpus", "3-1"}).exit_code, 2);
  EXPECT_EQ(parse({"--bogus"}).exit_code, 2);
  EXPECT_EQ(parse({"--config", "/nonexistent/topology.json"}).exit_code, 2);
  EXPECT_FALSE(parse({"--bogus"}).options);
}

TEST(Options, VersionAndHelpExitWith0) {
  auto v = parse({"--version"});
  EXPECT_FALSE(v.options);
  EXPECT_EQ(v.exit_code, 0);
  auto h = parse({"--help"});
  EXPECT_FALSE(h.options);
  EXPECT_EQ(h.exit_code, 0);
}

}  // namespace
}  // namespace vsw::daemon
