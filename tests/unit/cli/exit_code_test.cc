// tests/unit/cli/exit_code_test.cc — how a failed call maps to vswctl's exit code.
#include "cli/exit_code.h"

#include <gtest/gtest.h>

namespace vsw::cli {
namespace {

using protocol::FailureKind;

TEST(ExitCode, NumbersAreTheDocumentedOnes) {
  EXPECT_EQ(to_int(ExitCode::Ok), 0);
  EXPECT_EQ(to_int(ExitCode::Usage), 1);
  EXPECT_EQ(to_int(ExitCode::DaemonError), 2);
  EXPECT_EQ(to_int(ExitCode::NoDaemon), 3);
}

TEST(ExitCode, EachFailureKindMapsToOneCode) {
  EXPECT_EQ(exit_code_for(FailureKind::None), ExitCode::Ok);
  EXPECT_EQ(exit_code_for(FailureKind::Local), ExitCode::Usage);
  EXPECT_EQ(exit_code_for(FailureKind::Connect), ExitCode::NoDaemon);
  EXPECT_EQ(exit_code_for(FailureKind::Transport), ExitCode::NoDaemon);
  EXPECT_EQ(exit_code_for(FailureKind::Protocol), ExitCode::DaemonError);
  EXPECT_EQ(exit_code_for(FailureKind::Remote), ExitCode::DaemonError);
}

}  // namespace
}  // namespace vsw::cli
