// ports/memif/memif_message.cc — memif control message codec (memif.md §4, §5).
#include "ports/memif/memif_message.h"

#include <algorithm>
#include <cstring>

namespace vsw::ports::memif {

namespace {

template <class Wire>
MsgBuffer to_buffer(const Wire& w) {
  static_assert(sizeof(Wire) <= kMsgBytes);
  MsgBuffer out{};  // unused bytes are zero (memif.md §5)
  std::memcpy(out.data(), &w, sizeof(Wire));
  return out;
}

template <class Wire>
Wire from_buffer(const MsgBuffer& m) {
  Wire w;
  std::memcpy(&w, m.data(), sizeof(Wire));
  return w;
}

void put_field(char* field, size_t n, std::string_view text) {
  std::memset(field, 0, n);
  std::memcpy(field, text.data(), std::min(n, text.size()));
}

}  // namespace

MsgType msg_type(const MsgBuffer& m) noexcept {
  uint16_t t;
  std::memcpy(&t, m.data(), sizeof(t));
  return static_cast<MsgType>(t);
}

std::string_view msg_type_name(MsgType t) noexcept {
  switch (t) {
    case MsgType::None: return "none";
    case MsgType::Ack: return "ack";
    case MsgType::Hello: return "hello";
    case MsgType::Init: return "init";
    case MsgType::AddRegion: return "add_region";
    case MsgType::AddRing: return "add_ring";
    case MsgType::Connect: return "connect";
    case MsgType::Connected: return "connected";
    case MsgType::Disconnect: return "disconnect";
  }
  return "unknown";
}

std::string field_raw(const char* field, size_t n) {
  const char* end = static_cast<const char*>(std::memchr(field, 0, n));
  return std::string(field, end == nullptr ? n : static_cast<size_t>(end - field));
}

std::string field_to_string(const char* field, size_t n) {
  std::string s = field_raw(field, n);
  for (char& c : s) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return s;
}

bool secret_matches(std::string_view got, std::string_view want) noexcept {
  // Both are at most kSecretBytes long on the wire; compare the full field width.
  unsigned diff = got.size() == want.size() ? 0u : 1u;
  for (size_t i = 0; i < kSecretBytes; ++i) {
    const unsigned a = i < got.size() ? static_cast<unsigned char>(got[i]) : 0u;
    const unsigned b = i < want.size() ? static_cast<unsigned char>(want[i]) : 0u;
    diff |= a ^ b;
  }
  return diff == 0;
}

MsgBuffer encode_ack() {
  MsgBuffer out{};
  const auto t = static_cast<uint16_t>(MsgType::Ack);
  std::memcpy(out.data(), &t, sizeof(t));
  return out;
}

MsgBuffer encode(const HelloMsg& m) {
  WireHello w{};
  w.type = static_cast<uint16_t>(MsgType::Hello);
  put_field(w.name, sizeof(w.name), m.name);
  w.min_version = m.min_version;
  w.max_version = m.max_version;
  w.max_region = m.max_region;
  w.max_s2c_ring = m.max_s2c_ring;
  w.max_c2s_ring = m.max_c2s_ring;
  w.max_log2_ring_size = m.max_log2_ring_size;
  return to_buffer(w);
}

MsgBuffer encode(const InitMsg& m) {
  WireInit w{};
  w.type = static_cast<uint16_t>(MsgType::Init);
  w.version = m.version;
  w.id = m.id;
  w.mode = m.mode;
  put_field(w.secret, sizeof(w.secret), m.secret);
  put_field(w.name, sizeof(w.name), m.name);
  return to_buffer(w);
}

MsgBuffer encode(const AddRegionMsg& m) {
  WireAddRegion w{};
  w.type = static_cast<uint16_t>(MsgType::AddRegion);
  w.index = m.index;
  w.size = m.size;
  return to_buffer(w);
}

MsgBuffer encode(const AddRingMsg& m) {
  WireAddRing w{};
  w.type = static_cast<uint16_t>(MsgType::AddRing);
  w.flags = m.flags;
  w.index = m.index;
  w.region = m.region;
  w.offset = m.offset;
  w.log2_ring_size = m.log2_ring_size;
  w.private_hdr_size = m.private_hdr_size;
  return to_buffer(w);
}

static MsgBuffer encode_connect_type(MsgType t, const ConnectMsg& m) {
  WireConnect w{};
  w.type = static_cast<uint16_t>(t);
  put_field(w.if_name, sizeof(w.if_name), m.if_name);
  return to_buffer(w);
}

MsgBuffer encode_connect(const ConnectMsg& m) { return encode_connect_type(MsgType::Connect, m); }
MsgBuffer encode_connected(const ConnectMsg& m) {
  return encode_connect_type(MsgType::Connected, m);
}

MsgBuffer encode(const DisconnectMsg& m) {
  WireDisconnect w{};
  w.type = static_cast<uint16_t>(MsgType::Disconnect);
  w.code = m.code;
  put_field(w.reason, sizeof(w.reason), m.reason);
  return to_buffer(w);
}

HelloMsg decode_hello(const MsgBuffer& m) {
  const auto w = from_buffer<WireHello>(m);
  HelloMsg h;
  h.name = field_to_string(w.name, sizeof(w.name));
  h.min_version = w.min_version;
  h.max_version = w.max_version;
  h.max_region = w.max_region;
  h.max_s2c_ring = w.max_s2c_ring;
  h.max_c2s_ring = w.max_c2s_ring;
  h.max_log2_ring_size = w.max_log2_ring_size;
  return h;
}

InitMsg decode_init(const MsgBuffer& m) {
  const auto w = from_buffer<WireInit>(m);
  InitMsg i;
  i.version = w.version;
  i.id = w.id;
  i.mode = w.mode;
  i.secret = field_raw(w.secret, sizeof(w.secret));
  i.name = field_to_string(w.name, sizeof(w.name));
  return i;
}

AddRegionMsg decode_add_region(const MsgBuffer& m) {
  const auto w = from_buffer<WireAddRegion>(m);
  return AddRegionMsg{w.index, w.size};
}

AddRingMsg decode_add_ring(const MsgBuffer& m) {
  const auto w = from_buffer<WireAddRing>(m);
  AddRingMsg r;
  r.flags = w.flags;
  r.index = w.index;
  r.region = w.region;
  r.offset = w.offset;
  r.log2_ring_size = w.log2_ring_size;
  r.private_hdr_size = w.private_hdr_size;
  return r;
}

ConnectMsg decode_connect(const MsgBuffer& m) {
  const auto w = from_buffer<WireConnect>(m);
  return ConnectMsg{field_to_string(w.if_name, sizeof(w.if_name))};
}

DisconnectMsg decode_disconnect(const MsgBuffer& m) {
  const auto w = from_buffer<WireDisconnect>(m);
  return DisconnectMsg{w.code, field_to_string(w.reason, sizeof(w.reason))};
}

}  // namespace vsw::ports::memif
