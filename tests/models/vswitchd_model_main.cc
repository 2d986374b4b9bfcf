// tests/models/vswitchd_model_main.cc — vswitchd-model: the real vswitchd (daemon/main.cc's
// vswitchd_main) with one more port type, ixgbe-model (ixgbe_model_port.h). Tests only.
#include "daemon/vswitchd_main.h"
#include "tests/models/ixgbe_model_port.h"

int main(int argc, char** argv) {
  return vsw::daemon::vswitchd_main(argc, argv, {vsw::tests::models::kIxgbeModelPortType});
}
