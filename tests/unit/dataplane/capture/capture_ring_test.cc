// tests/unit/dataplane/capture/capture_ring_test.cc — the per-(capture, worker) record ring:
// records come back in order and intact across many wraparounds, a full ring refuses
// (reserve() == nullptr) until the reader frees room, uncommitted reservations vanish.
#include "dataplane/capture/capture_ring.h"

#include <gtest/gtest.h>

#include <deque>
#include <thread>
#include <vector>

namespace vsw {
namespace {

void fill(std::byte* p, uint32_t n, uint32_t seed) {
  for (uint32_t i = 0; i < n; ++i) p[i] = static_cast<std::byte>((seed * 31 + i) & 0xFF);
}
bool intact(const std::byte* p, uint32_t n, uint32_t seed) {
  for (uint32_t i = 0; i < n; ++i) {
    if (p[i] != static_cast<std::byte>((seed * 31 + i) & 0xFF)) return false;
  }
  return true;
}

TEST(CaptureRing, RecordsSurviveManyWraparoundsInOrder) {
  CaptureRing ring(4096);
  ASSERT_EQ(ring.capacity(), 4096u);
  std::deque<uint32_t> expected;  // seeds in flight; the record's length is derived from it
  uint32_t next = 0;
  uint64_t popped = 0;
  for (int step = 0; step < 20000; ++step) {
    // Lengths 0..700 in an irregular pattern, so the wrap point moves around the buffer.
    const uint32_t len = (next * 97) % 701;
    if (std::byte* slot = ring.reserve(len)) {
      fill(slot, len, next);
      ring.commit(next, len + 1000, len);
      expected.push_back(next++);
    }
    if (step % 3 != 0 || expected.size() > 4) {
      CaptureRecordHeader h;
      const std::byte* data;
      if (ring.peek(h, data)) {
        ASSERT_FALSE(expected.empty());
        const uint32_t seed = expected.front();
        expected.pop_front();
        ASSERT_EQ(h.ts_ns, seed);
        ASSERT_EQ(h.cap_len, (seed * 97) % 701);
        ASSERT_EQ(h.orig_len, h.cap_len + 1000);
        ASSERT_TRUE(intact(data, h.cap_len, seed)) << "record " << seed;
        ring.pop(h);
        ++popped;
      }
    }
  }
  EXPECT_GT(popped * 300, uint64_t{20} * ring.capacity()) << "the test must wrap many times";
}

TEST(CaptureRing, FullRingRefusesUntilTheReaderFreesRoom) {
  CaptureRing ring(4096);
  const uint32_t len = 1000;  // 1024 bytes with header and padding: four fit
  int accepted = 0;
  while (std::byte* slot = ring.reserve(len)) {
    fill(slot, len, accepted);
    ring.commit(accepted, len, len);
    ++accepted;
    ASSERT_LT(accepted, 10);
  }
  EXPECT_EQ(accepted, 4);
  EXPECT_EQ(ring.reserve(len), nullptr);
  CaptureRecordHeader h;
  const std::byte* data;
  ASSERT_TRUE(ring.peek(h, data));
  EXPECT_EQ(h.ts_ns, 0u);
  ring.pop(h);
  EXPECT_NE(ring.reserve(len), nullptr) << "room again after one pop";
}

TEST(CaptureRing, UncommittedReservationIsNeverSeen) {
  CaptureRing ring(4096);
  ASSERT_NE(ring.reserve(100), nullptr);  // e.g. a chained frame the filter then rejected
  CaptureRecordHeader h;
  const std::byte* data;
  EXPECT_FALSE(ring.peek(h, data));
  std::byte* slot = ring.reserve(10);
  fill(slot, 10, 7);
  ring.commit(7, 10, 10);
  ASSERT_TRUE(ring.peek(h, data));
  EXPECT_EQ(h.ts_ns, 7u);
  EXPECT_TRUE(intact(data, 10, 7));
}

TEST(CaptureRing, LargestRecordFitsAnEmptyRingAtAnyOffset) {
  CaptureRing ring(8192);
  for (uint32_t shift = 0; shift < 64; ++shift) {
    std::byte* small = ring.reserve(shift * 16);
    ASSERT_NE(small, nullptr);
    ring.commit(1, shift * 16, shift * 16);
    CaptureRecordHeader h;
    const std::byte* data;
    ASSERT_TRUE(ring.peek(h, data));
    ring.pop(h);
    std::byte* big = ring.reserve(ring.max_record());
    ASSERT_NE(big, nullptr) << "offset " << shift;
    ring.commit(2, ring.max_record(), ring.max_record());
    ASSERT_TRUE(ring.peek(h, data));
    EXPECT_EQ(h.cap_len, ring.max_record());
    ring.pop(h);
  }
}

TEST(CaptureRing, OneProducerOneConsumerThreads) {
  CaptureRing ring(1 << 16);
  constexpr uint32_t kRecords = 20000;
  std::thread producer([&] {
    for (uint32_t i = 0; i < kRecords;) {
      const uint32_t len = i % 300;
      if (std::byte* slot = ring.reserve(len)) {
        fill(slot, len, i);
        ring.commit(i, len, len);
        ++i;
      } else {
        std::this_thread::yield();
      }
    }
  });
  uint32_t seen = 0;
  bool ok = true;
  while (seen < kRecords) {
    CaptureRecordHeader h;
    const std::byte* data;
    if (!ring.peek(h, data)) {
      std::this_thread::yield();
      continue;
    }
    ok = ok && h.ts_ns == seen && h.cap_len == seen % 300 && intact(data, h.cap_len, seen);
    ring.pop(h);
    ++seen;
  }
  producer.join();
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace vsw
