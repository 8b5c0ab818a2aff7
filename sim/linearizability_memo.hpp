// The linearizability search's memo (internal to the checker): the configurations
// already explored, with subsumption on info counts.
//
// A configuration is (base, info): base = (state, required ops linearized), info = the
// counts of linearized members per live info class. Using fewer info ops leaves
// strictly more options (an unused info op may stay unused forever), so a visited
// (base, info') with info' <= info componentwise means (base, info) fails too. Per base
// the memo keeps a chain of the info vectors visited; all of it in a chunked arena
// whose bytes are counted against the bound.
//
// Header-only: the search calls insert at every step, and the definitions stay
// inlinable there.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace vsr::sim::lin {

/// The configurations one search has explored. Its table and arena never grow past
/// `max_bytes`: an insert that would need more returns `full` and stores nothing more.
class Memo {
 public:
  explicit Memo(std::uint64_t max_bytes) : max_bytes_(max_bytes) { table_.resize(1024); }

  enum class Insert { fresh, seen, full };

  /// `info` holds (class << 32 | count) pairs sorted by class; `counts` is the dense
  /// vector they come from (classes not in `info` count as 0 for the comparison only
  /// when dead, which the caller guarantees is a function of `base`).
  Insert insert(const std::vector<std::uint64_t>& base, const std::vector<std::uint64_t>& info,
                const std::vector<std::uint32_t>& counts) {
    const std::uint64_t h = hash(base);
    const std::size_t mask = table_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& s = table_[i];
      if (s.ref == 0) {
        const std::uint64_t ref = store(base, 1);
        if (ref == 0) return Insert::full;
        s = Slot{h, ref};
        if (++bases_ * 2 > table_.size() && !grow()) return Insert::full;
        return add_info(ref, base.size(), info);
      }
      if (s.hash == h && equal(s.ref, base)) {
        if (subsumed(s.ref, base.size(), counts)) return Insert::seen;
        return add_info(s.ref, base.size(), info);
      }
    }
  }
  /// Whether (base, counts) would be `seen` by insert; changes nothing.
  [[nodiscard]] bool seen(const std::vector<std::uint64_t>& base, const std::vector<std::uint32_t>& counts) const {
    const std::uint64_t h = hash(base);
    const std::size_t mask = table_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = table_[i];
      if (s.ref == 0) return false;
      if (s.hash == h && equal(s.ref, base)) return subsumed(s.ref, base.size(), counts);
    }
  }
  [[nodiscard]] std::uint64_t bytes() const {
    return table_.size() * sizeof(Slot) + chunks_.size() * chunk_words * 8;
  }
  [[nodiscard]] std::uint64_t count() const { return count_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::uint64_t ref = 0;  // 0: empty; else 1 + arena offset of [len, words..., chain head]
  };
  static constexpr std::size_t chunk_words = std::size_t{1} << 18;  // 2 MiB

  static std::uint64_t hash(const std::vector<std::uint64_t>& key) {
    std::uint64_t h = 0x243F6A8885A308D3ULL ^ key.size();
    for (std::uint64_t w : key) {
      h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
      h ^= h >> 29;
    }
    return h ^ (h >> 32);
  }
  std::uint64_t* at(std::uint64_t ref) {
    const std::uint64_t off = ref - 1;
    return chunks_[off / chunk_words].get() + off % chunk_words;
  }
  const std::uint64_t* at(std::uint64_t ref) const {
    const std::uint64_t off = ref - 1;
    return chunks_[off / chunk_words].get() + off % chunk_words;
  }
  bool equal(std::uint64_t ref, const std::vector<std::uint64_t>& key) const {
    const std::uint64_t* p = at(ref);
    return p[0] == key.size() && std::equal(key.begin(), key.end(), p + 1);
  }
  /// Whether a recorded info vector of this base is <= counts.
  bool subsumed(std::uint64_t ref, std::size_t base_len, const std::vector<std::uint32_t>& counts) const {
    for (std::uint64_t rec = at(ref)[base_len + 1]; rec != 0; rec = at(rec)[0]) {
      const std::uint64_t* p = at(rec);
      bool le = true;
      for (std::uint64_t k = 0; k < p[1] && le; ++k) {
        le = counts[p[2 + k] >> 32] >= (p[2 + k] & 0xFFFFFFFFULL);
      }
      if (le) return true;
    }
    return false;
  }
  Insert add_info(std::uint64_t base_ref, std::size_t base_len, const std::vector<std::uint64_t>& info) {
    std::vector<std::uint64_t>& rec = scratch_;
    rec.assign({0, info.size()});
    rec.insert(rec.end(), info.begin(), info.end());
    const std::uint64_t ref = store(rec, 0);
    if (ref == 0) return Insert::full;
    std::uint64_t& head = at(base_ref)[base_len + 1];
    at(ref)[0] = head;
    head = ref;
    ++count_;
    return Insert::fresh;
  }
  /// Copies words; with `with_len`, as [len, words..., chain head = 0].
  std::uint64_t store(const std::vector<std::uint64_t>& words, int with_len) {
    const std::size_t need = words.size() + 2 * static_cast<std::size_t>(with_len);
    if (need > chunk_words) return 0;
    if (chunks_.empty() || used_ + need > chunk_words) {
      if (bytes() + chunk_words * 8 > max_bytes_) return 0;
      chunks_.emplace_back(new std::uint64_t[chunk_words]);  // uninitialised: pages are touched lazily
      used_ = 0;
    }
    std::uint64_t* p = chunks_.back().get() + used_;
    if (with_len) *p++ = words.size();
    std::copy(words.begin(), words.end(), p);
    if (with_len) p[words.size()] = 0;  // chain head
    const std::uint64_t ref = 1 + (chunks_.size() - 1) * chunk_words + used_;
    used_ += need;
    return ref;
  }
  bool grow() {
    if (bytes() + table_.size() * 2 * sizeof(Slot) > max_bytes_) return false;
    std::vector<Slot> old(table_.size() * 2);
    old.swap(table_);
    const std::size_t mask = table_.size() - 1;
    for (const Slot& s : old) {
      if (s.ref == 0) continue;
      std::size_t i = s.hash & mask;
      while (table_[i].ref != 0) i = (i + 1) & mask;
      table_[i] = s;
    }
    return true;
  }

  std::uint64_t max_bytes_;
  std::vector<Slot> table_;
  std::vector<std::unique_ptr<std::uint64_t[]>> chunks_;
  std::vector<std::uint64_t> scratch_;
  std::size_t used_ = 0;
  std::uint64_t bases_ = 0;
  std::uint64_t count_ = 0;
};

}  // namespace vsr::sim::lin
