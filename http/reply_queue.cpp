#include "http/reply_queue.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace wallet::http {

ReplyQueue::ReplyQueue() : event_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (event_fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
}

ReplyQueue::~ReplyQueue() { ::close(event_fd_); }

bool ReplyQueue::push(PendingReply reply) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return false;
    replies_.push_back(std::move(reply));
  }
  // The eventfd outlives every pusher (they share ownership of this queue), so this write cannot
  // reach a reused descriptor. It can only fail with EAGAIN at a counter near 2^64.
  const uint64_t one = 1;
  const ssize_t written = ::write(event_fd_, &one, sizeof one);
  (void)written;
  return true;
}

std::deque<PendingReply> ReplyQueue::take() {
  uint64_t count = 0;
  while (::read(event_fd_, &count, sizeof count) > 0) {
  }
  std::lock_guard<std::mutex> lock(mutex_);
  return std::exchange(replies_, {});
}

void ReplyQueue::close() {
  std::lock_guard<std::mutex> lock(mutex_);
  closed_ = true;
  replies_.clear();
}

}  // namespace wallet::http
