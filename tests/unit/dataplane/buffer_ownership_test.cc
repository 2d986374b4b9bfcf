// tests/unit/dataplane/buffer_ownership_test.cc — copies of lent and chained frames into owned
// buffers (dataplane/buffer_ownership.h): whole frames, metadata carried, nothing leaked when the
// pool runs dry.
#include "dataplane/buffer_ownership.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace vsw {
namespace {

struct CountingOwner final : BufferOwner {
  int released = 0;
  void release(Packet*) noexcept override { ++released; }
};

// A lent frame over `mem`, cut into segments of `seg` bytes (vsw-private headers in `hdrs`).
Packet* lend(std::vector<std::byte>& mem, uint32_t seg, std::vector<Packet>& hdrs,
             BufferOwner& owner) {
  const uint32_t n = static_cast<uint32_t>((mem.size() + seg - 1) / seg);
  hdrs = std::vector<Packet>(n);
  for (uint32_t i = 0; i < n; ++i) {
    Packet& p = hdrs[i];
    p.base = mem.data() + i * seg;
    p.len = static_cast<uint16_t>(std::min<size_t>(seg, mem.size() - i * seg));
    p.buf_len = p.len;
    p.owner = &owner;
    p.flags = kPacketLent;
    p.refs.store(1);
    p.next = i + 1 < n ? &hdrs[i + 1] : nullptr;
  }
  hdrs[0].frame_len = static_cast<uint32_t>(mem.size());
  return &hdrs[0];
}

class BufferOwnershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pool = Mempool::create("own", Mempool::Config{256, 2048, false});
    ASSERT_TRUE(pool.has_value());
    pool_ = std::move(*pool);
  }
  std::unique_ptr<Mempool> pool_;
};

TEST_F(BufferOwnershipTest, CopyFrameKeepsBytesMetadataAndPacksSegments) {
  std::vector<std::byte> mem(5000);
  for (size_t i = 0; i < mem.size(); ++i) mem[i] = static_cast<std::byte>(i * 13);
  CountingOwner owner;
  std::vector<Packet> hdrs;
  Packet* lent = lend(mem, 700, hdrs, owner);  // 8 segments of 700 bytes
  lent->gso_type = GsoType::Tcpv4;
  lent->gso_size = 1448;
  lent->hdr_len = 54;
  lent->flags |= kPacketNeedsCsum;
  lent->csum_start = 34;
  lent->csum_offset = 16;
  lent->in_port = 7;
  Packet* c = copy_frame(*lent, *pool_);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(chain_length(c), 3u) << "5000 bytes in 1920-byte buffers";
  EXPECT_FALSE(c->is_lent());
  EXPECT_EQ(c->frame_len, 5000u);
  EXPECT_EQ(c->in_port, 7);
  EXPECT_EQ(c->gso_type, GsoType::Tcpv4);
  EXPECT_EQ(c->gso_size, 1448);
  EXPECT_EQ(c->hdr_len, 54);
  EXPECT_TRUE(c->needs_csum());
  EXPECT_EQ(c->csum_start, 34);
  std::vector<std::byte> back;
  for (Packet* s = c; s != nullptr; s = s->next) back.insert(back.end(), s->data(), s->data() + s->len);
  EXPECT_EQ(back, mem);
  EXPECT_EQ(owner.released, 0) << "copy_frame only reads its source";
  release_packet(c);
  EXPECT_EQ(pool_->available(), pool_->capacity());
}

TEST_F(BufferOwnershipTest, MakeOwnedReplacesLentFramesOnly) {
  std::vector<std::byte> mem(300, std::byte{0x42});
  CountingOwner owner;
  std::vector<Packet> hdrs;
  Packet* lent = lend(mem, 300, hdrs, owner);
  Packet* owned = nullptr;
  ASSERT_EQ(pool_->alloc(&owned, 1), 1);
  owned->len = 60;
  owned->frame_len = 60;
  PacketBatch b;
  b.push(owned);
  b.push(lent);
  QueueCounters qc;
  EXPECT_EQ(make_owned(b, pool_.get(), qc), 1);
  ASSERT_EQ(b.size(), 2);
  EXPECT_EQ(b[0], owned);
  EXPECT_NE(b[1], lent);
  EXPECT_FALSE(b[1]->is_lent());
  EXPECT_EQ(b[1]->frame_len, 300u);
  EXPECT_EQ(owner.released, 1) << "the lent reference is given back at once";
  b.release_all();
  EXPECT_EQ(pool_->available(), pool_->capacity());
}

TEST_F(BufferOwnershipTest, AnEmptyPoolDropsLentFramesAndLeaksNothing) {
  std::vector<Packet*> hold(pool_->capacity() - 1);
  ASSERT_EQ(pool_->alloc(hold.data(), 32), 32);
  for (size_t i = 32; i < hold.size(); i += 32) {
    const uint16_t want = static_cast<uint16_t>(std::min<size_t>(32, hold.size() - i));
    ASSERT_EQ(pool_->alloc(hold.data() + i, want), want);
  }
  std::vector<std::byte> mem(4000, std::byte{1});  // needs 3 buffers, 1 is left
  CountingOwner owner;
  std::vector<Packet> hdrs;
  PacketBatch b;
  b.push(lend(mem, 4000, hdrs, owner));
  QueueCounters qc;
  EXPECT_EQ(make_owned(b, pool_.get(), qc), 0);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(qc.drops[static_cast<size_t>(DropReason::NoBuffer)].get(), 1u);
  EXPECT_EQ(owner.released, 1);
  EXPECT_EQ(pool_->available(), 1u) << "the partial copy went back";
  b.push(lend(mem, 4000, hdrs, owner));
  EXPECT_EQ(make_owned(b, nullptr, qc), 0) << "no pool: lent frames cannot be kept";
  EXPECT_EQ(qc.drops[static_cast<size_t>(DropReason::NoBuffer)].get(), 2u);
  for (Packet* p : hold) release_packet(p);
}

}  // namespace
}  // namespace vsw
