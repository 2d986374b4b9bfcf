// tests/unit/pci/pci_address_test.cc — PciAddress::parse/str: the strict DDDD:BB:DD.F form.
#include <gtest/gtest.h>

#include "ports/pci/pci_device.h"

namespace vsw::ports::pci {
namespace {

TEST(PciAddress, ParsesTheSysfsForm) {
  auto a = PciAddress::parse("0001:af:1f.7");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->domain, 1);
  EXPECT_EQ(a->bus, 0xaf);
  EXPECT_EQ(a->device, 0x1f);
  EXPECT_EQ(a->function, 7);
  EXPECT_EQ(a->str(), "0001:af:1f.7");
}

TEST(PciAddress, UpperCaseIsAcceptedAndPrintedLowerCase) {
  auto a = PciAddress::parse("0000:0A:04.0");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->str(), "0000:0a:04.0");
  EXPECT_EQ(*a, *PciAddress::parse("0000:0a:04.0"));
}

TEST(PciAddress, RejectsEverythingElseShowingTheExpectedForm) {
  for (const char* bad : {"", "00:04.0", "0000:00:04", "0000:00:04.", "0000:00:04.0 ",
                          " 0000:00:04.0", "0000-00-04.0", "0000:0g:04.0", "0000:00:20.0",
                          "0000:00:04.8", "00000:00:04.0", "0000:000:04.0", "+000:00:04.0"}) {
    auto a = PciAddress::parse(bad);
    ASSERT_FALSE(a) << bad;
    EXPECT_EQ(a.error().code, Errc::InvalidArgument) << bad;
    EXPECT_NE(a.error().message.find("0000:00:04.0"), std::string::npos) << a.error().message;
  }
}

TEST(PciAddress, NamesTheOutOfRangeField) {
  EXPECT_NE(PciAddress::parse("0000:00:20.0").error().message.find("device"), std::string::npos);
  EXPECT_NE(PciAddress::parse("0000:00:1f.9").error().message.find("function"),
            std::string::npos);
}

}  // namespace
}  // namespace vsw::ports::pci
