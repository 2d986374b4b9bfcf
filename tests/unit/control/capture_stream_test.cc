// tests/unit/control/capture_stream_test.cc — the pcap writer byte for byte (nanosecond
// timestamps), the chunked stream after capture.start (header first, records in time order
// across workers, the end marker and summary at the count or when the port is deleted), and
// capture.start refused where no stream can follow (batch, notification).
#include "control/capture/capture_stream.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "control/capture/pcap_writer.h"
#include "control/dispatcher.h"
#include "dataplane/switch.h"
#include "ports/ring/ring_port.h"

namespace vsw::control {
namespace {

std::string hex(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

TEST(PcapWriter, FileHeaderIsByteExact) {
  std::string out;
  append_pcap_file_header(out, 65535);
  // magic a1b23c4d (ns), 2.4, thiszone 0, sigfigs 0, snaplen 65535, LINKTYPE_ETHERNET, all LE.
  EXPECT_EQ(hex(out), "4d3cb2a1" "0200" "0400" "00000000" "00000000" "ffff0000" "01000000");
  EXPECT_EQ(out.size(), kPcapFileHeaderBytes);
}

TEST(PcapWriter, RecordIsByteExactWithNanoseconds) {
  std::string out;
  const char data[3] = {'\x01', '\x02', '\x03'};
  append_pcap_record(out, 1'700'000'000'123'456'789ull, 1514, data, 3);
  // 1700000000 = 0x6553f100; 123456789 = 0x075bcd15; incl 3; orig 1514 = 0x5ea.
  EXPECT_EQ(hex(out), "00f15365" "15cd5b07" "03000000" "ea050000" "010203");
}

struct Parsed {
  std::string pcap;
  nlohmann::json summary;
  bool ended = false;
};

// Undoes the chunk framing of docs/capture.md.
Parsed parse_stream(const std::string& s) {
  Parsed p;
  size_t at = 0;
  while (at + 4 <= s.size()) {
    const auto* b = reinterpret_cast<const unsigned char*>(s.data() + at);
    const uint32_t len = uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3];
    at += 4;
    if (len == 0) {
      p.ended = true;
      p.summary = nlohmann::json::parse(s.substr(at, s.find('\n', at) - at));
      return p;
    }
    p.pcap += s.substr(at, len);
    at += len;
  }
  return p;
}

class CaptureStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SwitchConfig cfg;
    cfg.workers = 2;
    cfg.pool = Mempool::Config{1024, 2048, false};
    auto sw = Switch::create(cfg);
    ASSERT_TRUE(sw);
    sw_ = std::move(*sw);
    ASSERT_TRUE(sw_->add_bridge("br0", {}));
    ASSERT_TRUE(sw_->add_port("br0", "p", [](PortId id) -> Result<std::unique_ptr<Port>> {
      return std::unique_ptr<Port>(std::make_unique<ports::ring::RingPort>("p", id));
    }));
  }
  // Copies a one-segment frame of `len` bytes (byte i = tag + i) as worker `w` would.
  void copy(Capture& c, uint16_t w, uint32_t len, uint8_t tag) {
    frames_.emplace_back(len);
    for (uint32_t i = 0; i < len; ++i) frames_.back()[i] = static_cast<std::byte>(tag + i);
    Packet p{};
    p.base = frames_.back().data();
    p.len = static_cast<uint16_t>(len);
    p.frame_len = len;
    p.refs.store(1);
    Packet* pp = &p;
    c.copy_burst(w, &pp, 1);
  }
  std::unique_ptr<Switch> sw_;
  std::vector<std::vector<std::byte>> frames_;
};

TEST_F(CaptureStreamTest, HeaderRecordsInTimeOrderThenEndAtCount) {
  auto c = sw_->attach_capture({"p", CaptureDirection::Both, 64, ""});
  ASSERT_TRUE(c);
  Capture& cap = **c;
  CaptureStream stream(*sw_, *c, 3);
  copy(cap, 1, 100, 10);  // worker 1 first: oldest
  copy(cap, 0, 20, 20);
  copy(cap, 1, 30, 30);
  copy(cap, 0, 40, 40);  // beyond the count: never sent
  std::string out;
  EXPECT_FALSE(stream.pull(out, 1 << 20)) << "the count is reached in this pull";
  Parsed p = parse_stream(out);
  ASSERT_TRUE(p.ended);
  EXPECT_EQ(p.summary["reason"], "count");
  EXPECT_EQ(p.summary["captured"], 3);
  EXPECT_EQ(p.summary["dropped"], 0);
  ASSERT_GE(p.pcap.size(), kPcapFileHeaderBytes);
  std::string header;
  append_pcap_file_header(header, 64);
  EXPECT_EQ(p.pcap.substr(0, 24), header);
  // Records: (cap 64 of 100, tag 10), (20, tag 20), (30, tag 30).
  size_t at = 24;
  const uint32_t expect_cap[3] = {64, 20, 30}, expect_orig[3] = {100, 20, 30};
  const uint8_t expect_tag[3] = {10, 20, 30};
  uint64_t last_ts = 0;
  for (int i = 0; i < 3; ++i) {
    uint32_t f[4];
    std::memcpy(f, p.pcap.data() + at, 16);
    const uint64_t ts = uint64_t{f[0]} * 1'000'000'000 + f[1];
    EXPECT_GE(ts, last_ts);
    EXPECT_LT(f[1], 1'000'000'000u);
    last_ts = ts;
    EXPECT_EQ(f[2], expect_cap[i]);
    EXPECT_EQ(f[3], expect_orig[i]);
    EXPECT_EQ(static_cast<uint8_t>(p.pcap[at + 16]), expect_tag[i]);
    at += 16 + f[2];
  }
  EXPECT_EQ(at, p.pcap.size());
}

TEST_F(CaptureStreamTest, DeletedPortEndsAfterTheLastRecords) {
  auto c = sw_->attach_capture({"p", CaptureDirection::Rx, 1000, ""});
  ASSERT_TRUE(c);
  auto stream = std::make_unique<CaptureStream>(*sw_, *c, 0);
  std::string out;
  EXPECT_TRUE(stream->pull(out, 1 << 20));
  EXPECT_EQ(parse_stream(out).pcap.size(), 24u) << "the header comes at once";
  copy(**c, 0, 60, 1);
  ASSERT_TRUE(sw_->del_port("p"));
  std::string rest;
  while (stream->pull(rest, 1 << 20)) {
  }
  Parsed p = parse_stream(out + rest);
  ASSERT_TRUE(p.ended);
  EXPECT_EQ(p.summary["reason"], "port_deleted");
  EXPECT_EQ(p.summary["message"], "port 'p' was deleted");
  EXPECT_EQ(p.summary["captured"], 1);
  EXPECT_EQ(p.pcap.size(), 24u + 16 + 60);
  stream.reset();  // detaching a capture whose port is gone is fine
  EXPECT_TRUE(sw_->captures().empty());
}

TEST_F(CaptureStreamTest, DestroyingTheStreamDetachesTheCapture) {
  auto c = sw_->attach_capture({"p", CaptureDirection::Rx, 1000, ""});
  ASSERT_TRUE(c);
  auto stream = std::make_unique<CaptureStream>(*sw_, *c, 0);
  EXPECT_EQ(sw_->captures().size(), 1u);
  stream.reset();  // the client went away
  EXPECT_TRUE(sw_->captures().empty());
}

TEST(DispatcherStream, OnlyASingleRequestWithAnIdMayStream) {
  Dispatcher d;
  struct Dummy final : ReplyStream {
    bool pull(std::string&, size_t) override { return false; }
  };
  ASSERT_TRUE(d.add("x.stream", "", {}, [](Call& c) -> Result<nlohmann::json> {
    if (!c.stream_allowed) return make_error(Errc::InvalidArgument, "cannot stream here");
    c.stream = std::make_unique<Dummy>();
    return nlohmann::json::object();
  }));
  std::unique_ptr<ReplyStream> s;
  auto reply = d.handle(R"({"jsonrpc":"2.0","id":1,"method":"x.stream"})", &s);
  ASSERT_TRUE(reply);
  EXPECT_NE(reply->find("\"result\""), std::string::npos);
  EXPECT_NE(s, nullptr);
  s.reset();
  reply = d.handle(R"([{"jsonrpc":"2.0","id":1,"method":"x.stream"}])", &s);
  EXPECT_NE(reply->find("cannot stream here"), std::string::npos);
  EXPECT_EQ(s, nullptr);
  reply = d.handle(R"({"jsonrpc":"2.0","id":1,"method":"x.stream"})");  // no stream wanted
  EXPECT_NE(reply->find("cannot stream here"), std::string::npos);
  EXPECT_FALSE(d.handle(R"({"jsonrpc":"2.0","method":"x.stream"})", &s));
  EXPECT_EQ(s, nullptr);
}

}  // namespace
}  // namespace vsw::control
