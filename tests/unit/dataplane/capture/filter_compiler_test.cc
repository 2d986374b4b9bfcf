// tests/unit/dataplane/capture/filter_compiler_test.cc — FilterCompiler: libpcap's results pass
// through, a compile that outlives its limit is refused without holding the caller, the bound on
// compiles still running, and a throwing compile.
#include "dataplane/capture/filter_compiler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

namespace vsw {
namespace {

using namespace std::chrono_literals;
using Program = FilterCompiler::Program;

// A compile that blocks until release(), as pcap_compile does while a resolver waits.
class StuckCompile {
 public:
  FilterCompiler::CompileFn fn() {
    return [this](const std::string&, uint32_t) -> Result<Program> {
      calls_.fetch_add(1);
      gate_.wait();
      return Program(3);
    };
  }
  void release() { open_.set_value(); }
  int calls() const { return calls_.load(); }

 private:
  std::promise<void> open_;
  std::shared_future<void> gate_ = open_.get_future().share();
  std::atomic<int> calls_{0};
};

// Waits (bounded) until every compile thread of `c` finished.
bool drained(const FilterCompiler& c) {
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (c.pending() != 0 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
  return c.pending() == 0;
}

TEST(FilterCompiler, PassesLibpcapResultsThrough) {
  FilterCompiler c;
  auto good = c.compile("udp and dst port 4000", 65535);
  ASSERT_TRUE(good) << good.error().message;
  EXPECT_GT(good->size(), 2u);
  auto bad = c.compile("udp port", 65535);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::InvalidArgument);
  EXPECT_NE(bad.error().message.find("bad filter 'udp port'"), std::string::npos);
  EXPECT_TRUE(drained(c));
}

TEST(FilterCompiler, ACompileThatOutlivesTheLimitIsRefusedInTime) {
  StuckCompile stuck;
  FilterCompiler c(100ms, 4, stuck.fn());
  const auto t0 = std::chrono::steady_clock::now();
  auto r = c.compile("host db1.example", 65535);
  const auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Unavailable);
  EXPECT_NE(r.error().message.find("write addresses instead"), std::string::npos) << r.error().message;
  EXPECT_GE(waited, 100ms);
  EXPECT_LT(waited, 5s);
  EXPECT_EQ(c.pending(), 1u) << "the stuck compile is still running";
  stuck.release();
  EXPECT_TRUE(drained(c)) << "a released compile ends its thread";
}

TEST(FilterCompiler, RefusesAtOnceWhenTooManyCompilesAreStillRunning) {
  StuckCompile stuck;
  FilterCompiler c(20ms, 2, stuck.fn());
  EXPECT_EQ(c.compile("host a", 100).error().code, Errc::Unavailable);
  EXPECT_EQ(c.compile("host b", 100).error().code, Errc::Unavailable);
  auto third = c.compile("host c", 100);
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code, Errc::ResourceExhausted);
  EXPECT_EQ(stuck.calls(), 2) << "the refused filter never reached the compile";
  stuck.release();
  ASSERT_TRUE(drained(c));
  // Room again once they finished; this one is answered within the limit.
  FilterCompiler quick(5s, 2, [](const std::string&, uint32_t) -> Result<Program> {
    return Program(1);
  });
  auto r = quick.compile("udp", 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), 1u);
}

TEST(FilterCompiler, ACompileThatThrowsIsAnInternalError) {
  FilterCompiler c(5s, 1, [](const std::string&, uint32_t) -> Result<Program> {
    throw std::runtime_error("boom");
  });
  auto r = c.compile("udp", 100);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Internal);
  EXPECT_NE(r.error().message.find("boom"), std::string::npos);
  EXPECT_TRUE(drained(c));
}

}  // namespace
}  // namespace vsw
