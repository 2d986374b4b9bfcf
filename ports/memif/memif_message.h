// ports/memif/memif_message.h — encoding and decoding of the 128-byte memif control messages.
//
// Pure functions over byte buffers (no sockets), shared by the server (memif_session.cc) and
// the client library (client/memif_client.cc), and unit-tested with hostile input. Decoding never
// fails on content: it copies fields out with memcpy and turns NUL-padded name fields into
// printable strings; judging the values (version, indices, sizes) is the caller's job.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ports/memif/memif_protocol.h"

namespace vsw::ports::memif {

using MsgBuffer = std::array<std::byte, kMsgBytes>;

struct HelloMsg {
  std::string name;
  uint16_t min_version = kVersion;
  uint16_t max_version = kVersion;
  uint16_t max_region = 0;
  uint16_t max_s2c_ring = 0;
  uint16_t max_c2s_ring = 0;
  uint8_t max_log2_ring_size = kDefaultLog2RingSize;
};

struct InitMsg {
  uint16_t version = kVersion;
  uint32_t id = 0;
  uint8_t mode = kModeEthernet;
  std::string secret;  // raw bytes up to the first NUL (not sanitised: compared, never shown)
  std::string name;
};

struct AddRegionMsg {
  uint16_t index = 0;
  uint64_t size = 0;
};

struct AddRingMsg {
  uint16_t flags = 0;
  uint16_t index = 0;
  uint16_t region = 0;
  uint32_t offset = 0;
  uint8_t log2_ring_size = 0;
  uint16_t private_hdr_size = 0;
  RingType type() const noexcept {
    return (flags & kAddRingFlagC2S) != 0 ? RingType::C2S : RingType::S2C;
  }
};

struct ConnectMsg {  // CONNECT and CONNECTED share the layout
  std::string if_name;
};

struct DisconnectMsg {
  uint32_t code = 0;
  std::string reason;
};

// The type field of a received message (any value; unknown ones are not an enumerator).
MsgType msg_type(const MsgBuffer& m) noexcept;
std::string_view msg_type_name(MsgType t) noexcept;

MsgBuffer encode_ack();
MsgBuffer encode(const HelloMsg& m);
MsgBuffer encode(const InitMsg& m);
MsgBuffer encode(const AddRegionMsg& m);
MsgBuffer encode(const AddRingMsg& m);
MsgBuffer encode_connect(const ConnectMsg& m);
MsgBuffer encode_connected(const ConnectMsg& m);
MsgBuffer encode(const DisconnectMsg& m);

// Each decoder reads the body of a message whose type the caller already checked.
HelloMsg decode_hello(const MsgBuffer& m);
InitMsg decode_init(const MsgBuffer& m);
AddRegionMsg decode_add_region(const MsgBuffer& m);
AddRingMsg decode_add_ring(const MsgBuffer& m);
ConnectMsg decode_connect(const MsgBuffer& m);
DisconnectMsg decode_disconnect(const MsgBuffer& m);

// A NUL-padded field as text: stops at the first NUL or at `n` bytes, replaces bytes outside
// printable ASCII with '?', so peer-supplied names are safe to log and to show.
std::string field_to_string(const char* field, size_t n);
// Raw bytes of a NUL-padded field, up to the first NUL or `n` bytes.
std::string field_raw(const char* field, size_t n);
// Secret comparison whose time does not depend on where the strings differ.
bool secret_matches(std::string_view got, std::string_view want) noexcept;

}  // namespace vsw::ports::memif
