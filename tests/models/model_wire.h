// tests/models/model_wire.h — the model's wire: a Linux tap (IFF_TAP | IFF_NO_PI) and the thread
// that plays the 82599's DMA engine on it, like the hardware runs beside the driver.
//
// The thread waits (poll) on the tap and on an eventfd the model's doorbell signals when the
// driver writes RDT or TDT. Tap readable: each frame goes to IxgbeModel::receive(); a frame the
// model cannot take yet (no descriptors without DROP_EN) is held and retried on the next
// doorbell. Doorbell: IxgbeModel::transmit(), frames written to the tap.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "tests/models/ixgbe_model.h"

namespace vsw::tests::models {

class ModelWire {
 public:
  // Creates tap `name` (up to 15 characters) and starts the engine thread. Control thread.
  static Result<std::unique_ptr<ModelWire>> open(IxgbeModel& model, const std::string& name);
  ~ModelWire();  // stops the thread, closes the tap (the kernel deletes it)
  ModelWire(const ModelWire&) = delete;
  ModelWire& operator=(const ModelWire&) = delete;
  const std::string& name() const noexcept { return name_; }

 private:
  ModelWire(IxgbeModel& m, std::string name, int tap, int event);
  void run();
  void flush_tx();

  IxgbeModel& model_;
  std::string name_;
  int tap_ = -1, event_ = -1;
  std::atomic<bool> stop_{false};
  std::vector<uint8_t> pending_;  // a received frame the model could not take yet
  std::thread thread_;
};

}  // namespace vsw::tests::models
