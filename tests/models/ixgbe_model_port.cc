// tests/models/ixgbe_model_port.cc — `--type ixgbe-model` (ixgbe_model_port.h).
#include "tests/models/ixgbe_model_port.h"

#include "common/log.h"
#include "ports/intel/intel_port.h"
#include "tests/models/model_pci_device.h"
#include "tests/models/model_report.h"

namespace vsw::tests::models {

Result<std::unique_ptr<Port>> create_ixgbe_model(const ports::PortSpec& spec, PortId id,
                                                 ports::PortEnv& env) {
  if (auto st = ports::check_option_keys(spec, {"wire", "rx-queues", "report", "mtu"}); !st) {
    return std::move(st).error();
  }
  const std::string wire = ports::option_str(spec, "wire", "");
  if (wire.empty()) {
    return make_error(Errc::InvalidArgument,
                      "an ixgbe-model port needs -o wire=TAP (the tap the model creates as its "
                      "wire)");
  }
  auto rxq = ports::option_uint(spec, "rx-queues", 0, 1, ixgbe::kRssQueues);
  if (!rxq) return std::move(rxq).error();
  const std::string report = ports::option_str(spec, "report", "");
  auto mtu = ports::option_uint(spec, "mtu", kDefaultMtu, 68, kMaxMtu);
  if (!mtu) return std::move(mtu).error();

  auto dev = std::make_unique<ModelPciDevice>();
  // The report is written when the driver is done with the device (IntelPort destroys its
  // PciDevice last, after its reset), so it covers the whole life of the port.
  dev->set_on_destroy([report](const IxgbeModel& m) {
    for (const std::string& v : m.violations()) log::main().error("82599 model violation: {}", v);
    if (report.empty()) return;
    if (Status st = write_model_report(m, report); !st) {
      log::main().error("82599 model report: {}", st.error().message);
    }
  });
  if (!report.empty()) dev->model().set_violation_file(report + ".violations");
  if (Status st = dev->attach_tap(wire); !st) return std::move(st).error();

  ports::intel::IntelOptions opts;
  opts.rx_queues = static_cast<uint16_t>(*rxq);
  opts.workers = env.workers;
  opts.mtu = static_cast<uint32_t>(*mtu);
  auto port = ports::intel::IntelPort::open(spec.name, id, ports::intel::NicFamily::Ixgbe82599,
                                            std::move(dev), env.pool, opts);
  if (!port) return std::move(port).error();
  return std::unique_ptr<Port>(std::move(*port));
}

}  // namespace vsw::tests::models
