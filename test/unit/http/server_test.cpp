// HttpServer on loopback with real Pistache and raw sockets: answers given from other threads,
// after the header timeout, pipelined in order, while clients vanish. Hermetic (no Postgres,
// Kafka or NATS); the ThreadSanitizer build runs it to check the reactor hand-off.
#include "http/server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace wallet::http {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Answers handed to it from worker threads after a delay, as CAF actors answer.
class LateAnswers {
 public:
  explicit LateAnswers(int threads) {
    for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { run(); });
  }
  ~LateAnswers() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
  }
  void later(std::chrono::milliseconds delay, std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      jobs_.push_back({Clock::now() + delay, std::move(job)});
    }
    wake_.notify_one();
  }

 private:
  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      if (stopping_ && jobs_.empty()) return;
      if (jobs_.empty()) {
        wake_.wait(lock);
        continue;
      }
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      std::this_thread::sleep_until(job.first);
      job.second();
      lock.lock();
    }
  }
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<Clock::time_point, std::function<void()>>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void send_all(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

// Everything the server sends until it closes or `until` passes.
std::string read_until_closed(int fd, std::chrono::milliseconds within) {
  std::string out;
  const auto until = Clock::now() + within;
  while (Clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 1))) <= 0) break;
    char buffer[4096];
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string get(const std::string& path, bool close = false) {
  return "GET " + path + " HTTP/1.1\r\nHost: test\r\n" + (close ? "Connection: close\r\n" : "") +
         "\r\n";
}

// Responders count into the server's Metrics when they answer, and a test's LateAnswers threads
// (declared before its server, so destroyed after it) may still answer once the server is gone:
// the metrics live as long as the process, as in the services (main's outlives every answer).
Metrics& process_metrics() {
  static Metrics* metrics = new Metrics;  // never destroyed: answers may come until exit
  return *metrics;
}

struct TestServer {
  explicit TestServer(Router router, ServerOptions options = {}) {
    options.port = 0;
    options.threads = 2;
    server = std::make_unique<HttpServer>(options, std::move(router), metrics);
    server->start();
  }
  ~TestServer() { server->stop(); }
  Metrics& metrics = process_metrics();
  std::unique_ptr<HttpServer> server;
};

TEST(HttpServerTest, RequestInFlightPastTheHeaderTimeoutIsAnsweredByItsHandler) {
  LateAnswers late(1);
  Router router;
  router.add("GET", "/slow", [&](const HttpRequest&, ResponderPtr responder) {
    late.later(1500ms, [responder] { responder->send(200, R"({"done":true})"); });
  });
  ServerOptions options;
  options.header_timeout = 300ms;
  options.body_timeout = 300ms;
  TestServer server(std::move(router), options);

  int fd = connect_to(server.server->port());
  ASSERT_GE(fd, 0);
  const auto start = Clock::now();
  send_all(fd, get("/slow", true));
  const std::string answer = read_until_closed(fd, 5s);
  ::close(fd);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK", 0), 0u) << answer;
  EXPECT_NE(answer.find(R"({"done":true})"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("HTTP/1.1 408"), std::string::npos) << answer;
  EXPECT_GE(seconds, 1.4);
}

// The control for the test above: the header timeout is armed, and a request that is not read
// in time gets the contract's JSON 408.
TEST(HttpServerTest, RequestNotReadInTimeGetsJson408) {
  Router router;
  router.add("GET", "/x", [](const HttpRequest&, ResponderPtr r) { r->send(200, "{}"); });
  ServerOptions options;
  options.header_timeout = 300ms;
  TestServer server(std::move(router), options);
  int fd = connect_to(server.server->port());
  ASSERT_GE(fd, 0);
  send_all(fd, "GET /x HTTP/1.1\r\nHost: te");
  const std::string answer = read_until_closed(fd, 5s);
  ::close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 408", 0), 0u) << answer;
  EXPECT_NE(answer.find(R"("code":"request_timeout")"), std::string::npos) << answer;
}

// A request's age (what the access log's ms= and http_request_duration_seconds count) starts at
// its own first byte: not at the previous answer on a keep-alive connection (which made
// every request on an idle connection look as slow as the pause before it), and not later than
// the first byte when the rest of the request comes in slowly.
TEST(HttpServerTest, ARequestsAgeCountsFromItsOwnFirstByte) {
  std::mutex mutex;
  std::vector<double> ages;
  Router router;
  router.add("GET", "/age", [&](const HttpRequest& request, ResponderPtr r) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      ages.push_back(std::chrono::duration<double>(Clock::now() - request.received_at).count());
    }
    r->send(200, "{}");
  });
  TestServer server(std::move(router));
  int fd = connect_to(server.server->port());
  ASSERT_GE(fd, 0);
  send_all(fd, get("/age"));
  EXPECT_EQ(count_of(read_until_closed(fd, 300ms), "HTTP/1.1 200"), 1u);
  std::this_thread::sleep_for(800ms);  // the connection idles
  send_all(fd, get("/age"));
  EXPECT_EQ(count_of(read_until_closed(fd, 300ms), "HTTP/1.1 200"), 1u);
  const std::string slow = get("/age", true);
  send_all(fd, slow.substr(0, 10));  // the first bytes, then the rest after a pause
  std::this_thread::sleep_for(500ms);
  send_all(fd, slow.substr(10));
  EXPECT_EQ(count_of(read_until_closed(fd, 2s), "HTTP/1.1 200"), 1u);
  ::close(fd);
  std::lock_guard<std::mutex> lock(mutex);
  ASSERT_EQ(ages.size(), 3u);
  EXPECT_LT(ages[0], 0.25);
  EXPECT_LT(ages[1], 0.25) << "the idle time before the request was counted as its own";
  EXPECT_GE(ages[2], 0.45) << "a slowly sent request's age must count from its first byte";
  EXPECT_LT(ages[2], 1.0);
}

TEST(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  LateAnswers late(2);
  Router router;
  router.add("GET", "/a", [&](const HttpRequest&, ResponderPtr responder) {
    late.later(300ms, [responder] { responder->send(200, R"({"n":"a"})"); });
  });
  router.add("GET", "/b", [](const HttpRequest&, ResponderPtr r) { r->send(200, R"({"n":"b"})"); });
  router.add("POST", "/c",
             [](const HttpRequest& request, ResponderPtr r) { r->send(201, request.body); });
  TestServer server(std::move(router));
  int fd = connect_to(server.server->port());
  ASSERT_GE(fd, 0);
  send_all(fd, get("/a") + get("/b") +
                   "POST /c HTTP/1.1\r\nHost: t\r\nContent-Length: 9\r\n\r\n{\"n\":\"c\"}" +
                   get("/b", true));
  const std::string answer = read_until_closed(fd, 5s);
  ::close(fd);
  const size_t a = answer.find(R"({"n":"a"})");
  const size_t b = answer.find(R"({"n":"b"})");
  const size_t c = answer.find(R"({"n":"c"})");
  ASSERT_NE(a, std::string::npos) << answer;
  ASSERT_NE(b, std::string::npos) << answer;
  ASSERT_NE(c, std::string::npos) << answer;
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(count_of(answer, "HTTP/1.1 "), 4u) << answer;
  EXPECT_EQ(count_of(answer, R"({"n":"b"})"), 2u) << answer;
}

// Many clients, answers from several threads at random moments, and clients that send a request
// and vanish before its answer: every client that waits gets its answer and the server keeps
// serving. (Before the reactor hand-off, answers written from worker threads raced Pistache's
// reactor; the ThreadSanitizer build of this test is the check.)
TEST(HttpServerTest, AnswersFromWorkerThreadsWhileClientsVanish) {
  LateAnswers late(4);
  std::atomic<int> handled{0};
  Router router;
  router.add("GET", "/work", [&](const HttpRequest&, ResponderPtr responder) {
    static thread_local std::mt19937 random(std::random_device{}());
    handled.fetch_add(1);
    late.later(std::chrono::milliseconds(random() % 20),
               [responder] { responder->send(200, R"({"ok":true})"); });
  });
  TestServer server(std::move(router));
  const uint16_t port = server.server->port();
  std::atomic<int> answered{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 40; ++i) {
        int fd = connect_to(port);
        if (fd < 0) {
          failures.fetch_add(1);
          continue;
        }
        const bool vanish = (i + c) % 3 == 0;
        send_all(fd, get("/work") + get("/work", !vanish ? true : false));
        if (vanish) {
          ::close(fd);  // mid-request: both answers find the connection gone
          continue;
        }
        const std::string answer = read_until_closed(fd, 5s);
        ::close(fd);
        if (count_of(answer, R"({"ok":true})") == 2) {
          answered.fetch_add(1);
        } else {
          failures.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(answered.load(), 150);
  int fd = connect_to(port);
  ASSERT_GE(fd, 0);
  send_all(fd, get("/work", true));
  EXPECT_NE(read_until_closed(fd, 5s).find(R"({"ok":true})"), std::string::npos);
  ::close(fd);
}

}  // namespace
}  // namespace wallet::http
