#include "vsr/memory_device.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "vsr/assert.hpp"

namespace vsr {

Result<void> MemoryDevice::check_range(std::string_view what, std::uint64_t offset, std::size_t size) const {
  if (offset % sector_bytes != 0 || size % sector_bytes != 0) {
    return Error{fmt::format("memory device: {} of {} bytes at offset {} is not sector-aligned", what, size, offset)};
  }
  if (offset > size_bytes_ || size > size_bytes_ - offset) {
    return Error{fmt::format("memory device: {} of {} bytes at offset {} runs past the end ({} bytes)", what,
                             size, offset, size_bytes_)};
  }
  return outcome::success();
}

Result<void> MemoryDevice::read(std::uint64_t offset, std::span<std::uint8_t> into) {
  BOOST_OUTCOME_TRY(check_range("read", offset, into.size()));
  for (std::uint64_t s = offset / sector_bytes; s < (offset + into.size()) / sector_bytes; ++s) {
    if (unreadable_.count(s) != 0) {
      return Error{fmt::format("memory device: read error at offset {}", s * sector_bytes)};
    }
  }
  for (std::uint64_t at = offset; at < offset + into.size();) {
    const std::uint64_t index = at / chunk_bytes;
    const std::uint64_t within = at % chunk_bytes;
    const std::uint64_t n = std::min<std::uint64_t>(chunk_bytes - within, offset + into.size() - at);
    auto to = into.begin() + static_cast<std::ptrdiff_t>(at - offset);
    if (index < chunks_.size() && chunks_[index]) {
      std::copy_n(chunks_[index].get() + within, n, to);
    } else {
      std::fill_n(to, n, std::uint8_t{0});
    }
    at += n;
  }
  for (const Pending& p : pending_) {  // newer bytes over older ones
    const std::uint64_t lo = std::max(offset, p.offset);
    const std::uint64_t hi = std::min(offset + into.size(), p.offset + p.data.size());
    if (lo >= hi) continue;
    std::copy(p.data.begin() + static_cast<std::ptrdiff_t>(lo - p.offset),
              p.data.begin() + static_cast<std::ptrdiff_t>(hi - p.offset),
              into.begin() + static_cast<std::ptrdiff_t>(lo - offset));
  }
  return outcome::success();
}

bool MemoryDevice::powered() {
  if (!power_calls_left_) return true;
  if (*power_calls_left_ == 0) return false;
  --*power_calls_left_;
  return true;
}

Result<void> MemoryDevice::write(std::uint64_t offset, std::span<const std::uint8_t> data) {
  BOOST_OUTCOME_TRY(check_range("write", offset, data.size()));
  if (!powered()) return outcome::success();
  if (redirect_) {
    const std::uint64_t to = *redirect_;
    redirect_.reset();
    if (check_range("write", to, data.size())) offset = to;
  }
  pending_.push_back({offset, Bytes(data.begin(), data.end())});
  return outcome::success();
}

void MemoryDevice::land(std::uint64_t offset, std::span<const std::uint8_t> data) {
  if (data.empty()) return;
  for (std::uint64_t at = offset; at < offset + data.size();) {
    const std::uint64_t within = at % chunk_bytes;
    const std::uint64_t n = std::min<std::uint64_t>(chunk_bytes - within, offset + data.size() - at);
    std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(at - offset), n, chunk_for_write(at / chunk_bytes) + within);
    at += n;
  }
  extent_ = std::max(extent_, offset + data.size());
  for (std::uint64_t s = offset / sector_bytes; s < (offset + data.size()) / sector_bytes; ++s) unreadable_.erase(s);
}

Result<void> MemoryDevice::sync() {
  if (!powered()) return outcome::success();
  ++syncs_;
  for (const Pending& p : pending_) land(p.offset, p.data);
  pending_.clear();
  return outcome::success();
}

void MemoryDevice::crash(const std::function<std::uint64_t(const Pending&)>& landed) {
  for (const Pending& p : pending_) {
    const std::uint64_t sectors = std::min<std::uint64_t>(landed(p), p.data.size() / sector_bytes);
    land(p.offset, std::span<const std::uint8_t>(p.data).first(sectors * sector_bytes));
  }
  pending_.clear();
  redirect_.reset();
  power_calls_left_.reset();
}

void MemoryDevice::flip_bit(std::uint64_t offset, std::uint32_t bit) {
  VSR_ASSERT(offset < size_bytes_ && bit < 8, "flip_bit within the device");
  std::uint8_t& byte = chunk_for_write(offset / chunk_bytes)[offset % chunk_bytes];
  byte = static_cast<std::uint8_t>(byte ^ (1u << bit));
  extent_ = std::max(extent_, offset + 1);
}

void MemoryDevice::fail_reads_at(std::uint64_t offset) { unreadable_.insert(offset / sector_bytes); }

std::uint8_t* MemoryDevice::chunk_for_write(std::uint64_t index) {
  if (chunks_.size() <= index) chunks_.resize(index + 1);
  if (!chunks_[index]) chunks_[index] = std::make_unique<std::uint8_t[]>(chunk_bytes);  // zeroed
  return chunks_[index].get();
}

Bytes MemoryDevice::durable() const {
  Bytes out(extent_, 0);
  for (std::uint64_t index = 0; index < chunks_.size(); ++index) {
    if (!chunks_[index] || index * chunk_bytes >= extent_) continue;
    const std::uint64_t n = std::min(chunk_bytes, extent_ - index * chunk_bytes);
    std::copy_n(chunks_[index].get(), n, out.begin() + static_cast<std::ptrdiff_t>(index * chunk_bytes));
  }
  return out;
}

void MemoryDevice::wipe() {
  chunks_.clear();
  extent_ = 0;
  pending_.clear();
  unreadable_.clear();
  redirect_.reset();
  power_calls_left_.reset();
}

}  // namespace vsr
