// tests/unit/daemon/options_test.cc — vswitchd command-line parsing.
#include "daemon/options.h"

#include <gtest/gtest.h>

#include <string>
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
  EXPECT_EQ(p.options->poll_mode, PollMode::Adaptive);
}

TEST(Options, EverythingSet) {
  auto p = parse({"--socket", "/tmp/x.sock", "--state-file", "/tmp/s.json", "--run-dir", "/tmp/r",
                  "--workers", "2", "--cpus", "0-1,3", "--log-level", "info,dp=debug",
                  "--mempool-buffers", "4096", "--no-hugepages", "--poll-mode", "busy",
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
  EXPECT_EQ(o.poll_mode, PollMode::Busy);
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
  EXPECT_EQ(parse({"--poll-mode", "lazy"}).exit_code, 2);
  EXPECT_EQ(parse({"--idle-sleep-us", "50"}).exit_code, 2);  // replaced by --poll-mode
  EXPECT_EQ(parse({"--bogus"}).exit_code, 2);
  EXPECT_EQ(parse({"--config", "/nonexistent/topology.json"}).exit_code, 2);
  EXPECT_FALSE(parse({"--bogus"}).options);
}

TEST(Options, MempoolBufferBytesIsAPowerOfTwoFrom2048To16384) {
  auto d = parse({});
  ASSERT_TRUE(d.options);
  EXPECT_EQ(d.options->mempool_buffer_bytes, 2048u);
  for (const char* ok : {"2048", "4096", "8192", "16384"}) {
    auto p = parse({"--mempool-buffer-bytes", ok});
    ASSERT_TRUE(p.options) << ok;
    EXPECT_EQ(p.options->mempool_buffer_bytes, std::stoul(ok));
  }
  for (const char* bad : {"1024", "3000", "6144", "32768", "big"}) {
    EXPECT_EQ(parse({"--mempool-buffer-bytes", bad}).exit_code, 2) << bad;
  }
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
