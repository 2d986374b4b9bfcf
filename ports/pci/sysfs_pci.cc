// ports/pci/sysfs_pci.cc — reading sysfs for one PCI function (see sysfs_pci.h).
#include "ports/pci/sysfs_pci.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

namespace vsw::ports::pci {

namespace fs = std::filesystem;

Result<std::string> read_text_file(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_sys_error(Errc::Io, errno, fmt::format("cannot open {}", path));
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      const int err = errno;
      close(fd);
      return make_sys_error(Errc::Io, err, fmt::format("cannot read {}", path));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

Status write_text_file(const std::string& path, std::string_view text) {
  // Opened as a shell redirection opens (O_TRUNC is harmless on sysfs); sysfs attributes take
  // one write(2) each (Documentation/filesystems/sysfs.rst, "Reading/Writing Attribute Data"),
  // so no buffering and no partial-write loop.
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return make_sys_error(Errc::Io, errno, fmt::format("cannot open {}", path));
  const ssize_t n = write(fd, text.data(), text.size());
  const int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    return make_sys_error(Errc::Io, n < 0 ? err : EIO,
                          fmt::format("cannot write \"{}\" to {}",
                                      text.substr(0, text.find('\n')), path));
  }
  return ok();
}

std::optional<uint64_t> parse_hex(std::string_view t) {
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  if (t.size() >= 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) t.remove_prefix(2);
  if (t.empty() || t.size() > 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : t) {
    unsigned d;
    if (c >= '0' && c <= '9') d = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') d = static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') d = static_cast<unsigned>(c - 'A' + 10);
    else return std::nullopt;
    v = v * 16 + d;
  }
  return v;
}

Result<BarTable> parse_resource_table(std::string_view text) {
  BarTable bars{};
  for (unsigned i = 0; i < bars.size(); ++i) {
    const size_t eol = text.find('\n');
    if (eol == std::string_view::npos) {
      return make_error(Errc::InvalidArgument, "resource file has {} lines, expected at least 6", i);
    }
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol + 1);
    std::optional<uint64_t> f[3];
    for (auto& field : f) {
      while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      const size_t sp = std::min(line.find(' '), line.size());
      field = parse_hex(line.substr(0, sp));
      line.remove_prefix(sp);
    }
    if (!f[0] || !f[1] || !f[2] || (*f[1] < *f[0] && (*f[0] || *f[1]))) {
      return make_error(Errc::InvalidArgument, "resource file line {} is malformed", i + 1);
    }
    bars[i] = BarResource{*f[0], *f[1], *f[2]};
  }
  return bars;
}

std::string link_basename(const std::string& path) {
  std::error_code ec;
  const fs::path target = fs::read_symlink(path, ec);
  if (ec) return "";
  return target.filename().string();
}

SysfsPci::SysfsPci(const PciPaths& paths, const PciAddress& addr)
    : paths_(paths), bdf_(addr.str()), dir_(paths.sys + "/bus/pci/devices/" + bdf_) {}

bool SysfsPci::exists() const {
  std::error_code ec;
  return fs::exists(dir_ + "/config", ec);
}

namespace {
Result<uint16_t> read_id(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return text.error();
  const auto v = parse_hex(*text);
  if (!v || *v > 0xffff) return make_error(Errc::Io, "{} holds no 16-bit hex id", path);
  return static_cast<uint16_t>(*v);
}
}  // namespace

Result<uint16_t> SysfsPci::vendor() const { return read_id(dir_ + "/vendor"); }
Result<uint16_t> SysfsPci::device() const { return read_id(dir_ + "/device"); }

std::string SysfsPci::driver() const { return link_basename(dir_ + "/driver"); }

std::string SysfsPci::driver_of(std::string_view bdf) const {
  return link_basename(paths_.sys + "/bus/pci/devices/" + std::string(bdf) + "/driver");
}

bool SysfsPci::driver_available(std::string_view driver) const {
  std::error_code ec;
  return fs::is_directory(paths_.sys + "/bus/pci/drivers/" + std::string(driver), ec);
}

std::optional<unsigned> SysfsPci::iommu_group() const {
  const std::string name = link_basename(dir_ + "/iommu_group");
  if (name.empty()) return std::nullopt;
  unsigned v = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v;
}

std::string SysfsPci::iommu_group_type(unsigned group) const {
  auto text = read_text_file(fmt::format("{}/kernel/iommu_groups/{}/type", paths_.sys, group));
  if (!text) return "";
  std::string t = std::move(*text);
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  return t;
}

std::vector<std::string> SysfsPci::iommu_group_devices(unsigned group) const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(
           fmt::format("{}/kernel/iommu_groups/{}/devices", paths_.sys, group), ec)) {
    out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::pair<uint64_t, uint64_t>> SysfsPci::iommu_reserved_regions(unsigned group) const {
  // Documentation/ABI/testing/sysfs-kernel-iommu_groups: "start end type" per line, in hex.
  std::vector<std::pair<uint64_t, uint64_t>> out;
  auto text =
      read_text_file(fmt::format("{}/kernel/iommu_groups/{}/reserved_regions", paths_.sys, group));
  if (!text) return out;
  std::string_view t = *text;
  while (!t.empty()) {
    const size_t eol = std::min(t.find('\n'), t.size());
    std::string_view line = t.substr(0, eol);
    t.remove_prefix(std::min(eol + 1, t.size()));
    const size_t a = line.find(' ');
    if (a == std::string_view::npos) continue;
    const size_t b = line.find(' ', a + 1);
    const auto start = parse_hex(line.substr(0, a));
    const auto end = parse_hex(line.substr(a + 1, b == std::string_view::npos ? b : b - a - 1));
    if (start && end && *end >= *start) out.emplace_back(*start, *end);
  }
  return out;
}

bool SysfsPci::iommu_present() const {
  std::error_code ec;
  fs::directory_iterator it(paths_.sys + "/class/iommu", ec);
  return !ec && it != fs::directory_iterator();
}

bool SysfsPci::iommu_translates() const {
  const auto group = iommu_group();
  if (!group || !iommu_present()) return false;  // no IOMMU (a vfio no-IOMMU group translates nothing)
  const std::string type = iommu_group_type(*group);
  // Linux drivers/iommu/iommu.c iommu_group_show_type: "identity" is pass-through; "DMA",
  // "DMA-FQ" and "unmanaged" (a group vfio holds) translate.
  return type != "identity";
}

Result<BarTable> SysfsPci::resources() const {
  auto text = read_text_file(dir_ + "/resource");
  if (!text) return text.error();
  auto bars = parse_resource_table(*text);
  if (!bars) return make_error(Errc::Io, "{}/resource: {}", dir_, bars.error().message);
  return bars;
}

std::string SysfsPci::resource_path(unsigned bar) const {
  return fmt::format("{}/resource{}", dir_, bar);
}

std::vector<NetInterface> SysfsPci::net_interfaces() const {
  // A NIC driver registers its interfaces under <dir>/net; virtio-net does under the virtio
  // device it creates (<dir>/virtioN/net). Subdirectories are real directories, the links
  // (driver, subsystem, iommu_group, ...) are not followed.
  std::vector<NetInterface> out;
  auto add_from = [&](const fs::path& net_dir) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(net_dir, ec)) {
      NetInterface n;
      n.name = e.path().filename().string();
      if (auto text = read_text_file(e.path().string() + "/flags")) {
        n.flags = static_cast<uint32_t>(parse_hex(*text).value_or(0));
      }
      out.push_back(std::move(n));
    }
  };
  add_from(dir_ + "/net");
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    std::error_code ec2;
    if (e.is_symlink(ec2) || !e.is_directory(ec2)) continue;
    if (e.path().filename() == "net") continue;
    if (fs::is_directory(e.path() / "net", ec2)) add_from(e.path() / "net");
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

std::optional<unsigned> SysfsPci::uio_index() const {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_ + "/uio", ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > 3 && name.compare(0, 3, "uio") == 0 &&
        std::all_of(name.begin() + 3, name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return static_cast<unsigned>(std::stoul(name.substr(3)));
    }
  }
  return std::nullopt;
}

uint64_t SysfsPci::hugepages_2m() const {
  auto text = read_text_file(paths_.sys + "/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages");
  if (!text) return 0;
  return std::strtoull(text->c_str(), nullptr, 10);
}

}  // namespace vsw::ports::pci
