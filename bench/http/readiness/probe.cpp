// What Asio's speculative read costs on this machine, without authd around it: a minimal
// HTTP/1.1 responder (one edge-triggered epoll loop per core, SO_REUSEPORT) answering every
// request with authd's /healthz bytes, in one of two read disciplines:
//   speculative  after answering, read again at once, as Asio's reactor does (a short read
//                does not tell it the socket is empty, so the next read usually finds EAGAIN);
//   drained      after a short read, wait for epoll's next edge, as nginx does.
// The difference between the two is the most a readiness-tracking loop could give authd.
// Not part of authd: bench/http/readiness/run.sh builds and runs it.
//   probe speculative|drained PORT THREADS

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>
#include <vector>

namespace {

constexpr std::string_view kAnswer =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n"
    "X-Content-Type-Options: nosniff\r\nContent-Length: 15\r\n\r\n{\"status\":\"ok\"}";
constexpr std::size_t kBuffer = 4096;

bool g_drained_discipline = false;

// Requests whose heads end in `data` (the benchmark's requests have no body and arrive whole).
int complete_heads(std::string_view data) {
  int heads = 0;
  for (std::size_t at = data.find("\r\n\r\n"); at != std::string_view::npos;
       at = data.find("\r\n\r\n", at + 4)) {
    ++heads;
  }
  return heads;
}

void serve(int fd, char* buffer) {
  for (;;) {
    const ssize_t n = recv(fd, buffer, kBuffer, 0);
    if (n <= 0) {
      if (n == 0) close(fd);  // EAGAIN: wait for the next edge
      return;
    }
    const int heads = complete_heads({buffer, static_cast<std::size_t>(n)});
    for (int i = 0; i < heads; ++i) send(fd, kAnswer.data(), kAnswer.size(), MSG_NOSIGNAL);
    if (g_drained_discipline && static_cast<std::size_t>(n) < kBuffer) return;
  }
}

[[noreturn]] void fail(const char* what) {
  std::perror(what);
  std::exit(1);
}

void run_loop(int port) {
  const int one = 1;
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  setsockopt(listener, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) fail("bind");
  if (listen(listener, 4096) != 0) fail("listen");
  const int poller = epoll_create1(0);
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = listener;
  epoll_ctl(poller, EPOLL_CTL_ADD, listener, &event);
  std::array<epoll_event, 512> ready{};
  std::vector<char> buffer(kBuffer);
  for (;;) {
    const int count = epoll_wait(poller, ready.data(), static_cast<int>(ready.size()), -1);
    for (int i = 0; i < count; ++i) {
      const int fd = ready[static_cast<std::size_t>(i)].data.fd;
      if (fd != listener) {
        serve(fd, buffer.data());
        continue;
      }
      for (int client; (client = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK)) >= 0;) {
        setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        epoll_event client_event{};
        client_event.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
        client_event.data.fd = client;
        epoll_ctl(poller, EPOLL_CTL_ADD, client, &client_event);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 ||
      (std::strcmp(argv[1], "speculative") != 0 && std::strcmp(argv[1], "drained") != 0)) {
    std::fprintf(stderr, "usage: probe speculative|drained PORT THREADS\n");
    return 2;
  }
  g_drained_discipline = std::strcmp(argv[1], "drained") == 0;
  const int port = std::atoi(argv[2]);
  const int threads = std::atoi(argv[3]);
  std::vector<std::thread> loops;
  for (int i = 1; i < threads; ++i) loops.emplace_back(run_loop, port);
  run_loop(port);
}
