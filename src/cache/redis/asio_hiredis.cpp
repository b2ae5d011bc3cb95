#include "cache/redis/asio_hiredis.h"

#include <boost/asio/post.hpp>

namespace authd::cache::detail {

namespace asio = boost::asio;

AsioHiredis::AsioHiredis(asio::io_context& io, redisAsyncContext* ac, int fd)
    : io_(io), ac_(ac), socket_(io) {
  boost::system::error_code ec;
  socket_.assign(fd, ec);
  if (ec) ac_ = nullptr;
}

std::shared_ptr<AsioHiredis> AsioHiredis::attach(asio::io_context& io, redisAsyncContext* ac) {
  if (ac == nullptr || ac->ev.data != nullptr) return nullptr;
  std::shared_ptr<AsioHiredis> self;
  try {
    self = std::make_shared<AsioHiredis>(io, ac, ac->c.fd);
  } catch (...) {
    return nullptr;
  }
  if (self->ac_ == nullptr) {
    // assign() failed: the descriptor is not ours; release nothing, let the caller free ac.
    return nullptr;
  }
  self->self_ = self;
  ac->ev.data = self.get();
  ac->ev.addRead = [](void* p) { from(p)->want(kRead, true); };
  ac->ev.delRead = [](void* p) { from(p)->want(kRead, false); };
  ac->ev.addWrite = [](void* p) { from(p)->want(kWrite, true); };
  ac->ev.delWrite = [](void* p) { from(p)->want(kWrite, false); };
  ac->ev.cleanup = [](void* p) { from(p)->cleanup(); };
  return self;
}

void AsioHiredis::want(Dir dir, bool on) {
  interest_[dir].wanted = on;
  if (on) arm(dir);
}

void AsioHiredis::arm(Dir dir) {
  if (ac_ == nullptr || interest_[dir].armed) return;
  interest_[dir].armed = true;
  socket_.async_wait(dir == kRead ? asio::posix::stream_descriptor::wait_read
                                  : asio::posix::stream_descriptor::wait_write,
                     [self = shared_from_this(), dir](const boost::system::error_code& ec) {
                       self->on_ready(dir, ec);
                     });
}

void AsioHiredis::on_ready(Dir dir, const boost::system::error_code& ec) {
  interest_[dir].armed = false;
  // operation_aborted: cleanup() released the socket; the context may be gone.
  if (ec || ac_ == nullptr || !interest_[dir].wanted) return;
  if (dir == kRead) {
    redisAsyncHandleRead(ac_);
  } else {
    redisAsyncHandleWrite(ac_);
  }
  // The handler may have freed the context (cleanup() cleared ac_) or dropped interest.
  if (ac_ != nullptr && interest_[dir].wanted) arm(dir);
}

void AsioHiredis::cleanup() {
  // Called by hiredis just before it closes the fd and frees the context.
  ac_ = nullptr;
  interest_[kRead].wanted = interest_[kWrite].wanted = false;
  boost::system::error_code ignored;
  socket_.cancel(ignored);
  // release(), not close(): hiredis owns the descriptor and closes it right after this.
  socket_.release();
  // Dropping the last reference here could destroy `this` inside its own member function
  // (when nobody else holds one), so let the io_context drop it.
  asio::post(io_, [keep = std::move(self_)] {});
}

}  // namespace authd::cache::detail
