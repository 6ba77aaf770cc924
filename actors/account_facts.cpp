#include "actors/account_facts.hpp"

namespace wallet::actors {

AccountFacts::AccountFacts(std::chrono::milliseconds fresh_for, size_t capacity)
    : fresh_for_(fresh_for), capacity_(capacity) {}

std::vector<persistence::AccountView> AccountFacts::find(const std::vector<std::string>& ids,
                                                         std::vector<std::string>& missing) const {
  std::vector<persistence::AccountView> found;
  const auto now = Clock::now();
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& id : ids) {
    auto it = entries_.find(id);
    if (it != entries_.end() && now - it->second.read_at < fresh_for_) {
      found.push_back(it->second.view);
    } else {
      missing.push_back(id);
    }
  }
  return found;
}

void AccountFacts::keep(const std::vector<persistence::AccountView>& read) {
  const auto now = Clock::now();
  std::lock_guard<std::mutex> lock(mutex_);
  if (entries_.size() + read.size() > capacity_) entries_.clear();  // simple bound: start over
  for (const auto& view : read) entries_[view.account_id] = Entry{view, now};
}

void AccountFacts::forget(const std::string& account_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.erase(account_id);
}

}  // namespace wallet::actors
