#include "tools/cluster/proxy.hpp"

#include <array>

#include <boost/asio/write.hpp>

namespace vsr::cluster {

struct Proxy::Pipe : std::enable_shared_from_this<Proxy::Pipe> {
  Pipe(tcp::socket in, boost::asio::io_context& io) : a(std::move(in)), b(io) {}
  tcp::socket a;
  tcp::socket b;
  std::array<std::uint8_t, 65536> ab{};
  std::array<std::uint8_t, 65536> ba{};
  bool closed = false;

  void start(const tcp::endpoint& target) {
    b.async_connect(target, [self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->closed) return self->close();
      self->pump(self->a, self->b, self->ab);
      self->pump(self->b, self->a, self->ba);
    });
  }
  void pump(tcp::socket& from, tcp::socket& to, std::array<std::uint8_t, 65536>& buf) {
    from.async_read_some(boost::asio::buffer(buf), [self = shared_from_this(), &from, &to, &buf](
                                                       const boost::system::error_code& ec, std::size_t n) {
      if (ec || self->closed) return self->close();
      boost::asio::async_write(to, boost::asio::buffer(buf.data(), n),
                               [self, &from, &to, &buf](const boost::system::error_code& wec, std::size_t) {
                                 if (wec || self->closed) return self->close();
                                 self->pump(from, to, buf);
                               });
    });
  }
  void close() {
    if (closed) return;
    closed = true;
    boost::system::error_code ignored;
    a.close(ignored);
    b.close(ignored);
  }
};

Proxy::Proxy(boost::asio::io_context& io, tcp::endpoint target)
    : io_(io), acceptor_(io, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0)), target_(target) {
  accept();
}

void Proxy::set_cut(bool cut) {
  cut_ = cut;
  if (!cut) return;
  for (auto& w : pipes_) {
    if (auto p = w.lock()) p->close();
  }
  pipes_.clear();
}

void Proxy::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted) return;
    if (!ec && !cut_) {
      auto pipe = std::make_shared<Pipe>(std::move(socket), io_);
      std::erase_if(pipes_, [](const auto& w) { return w.expired(); });
      pipes_.push_back(pipe);
      pipe->start(target_);
    }
    accept();
  });
}

}  // namespace vsr::cluster
