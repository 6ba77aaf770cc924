// A minimal W3C WebDriver client for the browser e2e tests: starts Debian's chromedriver on a free
// loopback port, opens one headless Chromium session with a fresh profile, and offers the few
// commands the tests need (navigate, find, type, click, run a script, screenshot). Header-only
// because test/e2e compiles only *_test.cpp files; it speaks HTTP through the tests' HttpClient.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test/support/http_client.hpp"
#include "test/support/service_process.hpp"

namespace wallet::test {

inline const char* kChromiumBinary = "/usr/bin/chromium";
inline const char* kChromeDriverBinary = "/usr/bin/chromedriver";

// Decodes standard base64 (WebDriver screenshots); stops at the first character outside it.
inline std::string base64_decode(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  int bits = 0;
  unsigned buffer = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) break;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

class WebDriverSession {
 public:
  // Starts chromedriver and a Chromium session; throws std::runtime_error when either fails.
  // `artifacts` is the folder for the driver's log and the Chromium profile.
  explicit WebDriverSession(const std::string& artifacts)
      : port_(free_port()),
        driver_("http://127.0.0.1:" + std::to_string(port_), std::chrono::milliseconds(30'000)),
        log_path_(artifacts + "/chromedriver.log"),
        profile_(artifacts + "/chromium-profile-" + std::to_string(::getpid())) {
    std::filesystem::remove_all(profile_);
    std::filesystem::create_directories(profile_);
    start_driver();
    try {
      open_session();
    } catch (...) {
      stop_driver();
      throw;
    }
  }

  ~WebDriverSession() {
    if (!session_.empty()) driver_.request("DELETE", "/session/" + session_, nullptr);
    stop_driver();
    std::error_code ignored;
    std::filesystem::remove_all(profile_, ignored);
  }

  WebDriverSession(const WebDriverSession&) = delete;
  WebDriverSession& operator=(const WebDriverSession&) = delete;

  void navigate(const std::string& url) { session_command("POST", "/url", {{"url", url}}); }

  // The element id of the first match of a CSS selector; throws when there is none.
  std::string find(const std::string& css) {
    auto found = session_command("POST", "/element", {{"using", "css selector"}, {"value", css}});
    for (const auto& [key, id] : found.items()) return id.get<std::string>();
    throw std::runtime_error("no element " + css);
  }

  void type(const std::string& css, const std::string& text) {
    auto id = find(css);
    session_command("POST", "/element/" + id + "/clear", nlohmann::json::object());
    session_command("POST", "/element/" + id + "/value", {{"text", text}});
  }

  void click(const std::string& css) {
    session_command("POST", "/element/" + find(css) + "/click", nlohmann::json::object());
  }

  // Runs `body` as a function in the page (arguments in `arguments`) and returns its result.
  nlohmann::json script(const std::string& body, nlohmann::json args = nlohmann::json::array()) {
    return session_command("POST", "/execute/sync", {{"script", body}, {"args", std::move(args)}});
  }

  // Polls `body` until it returns true or `timeout` passes; returns whether it became true.
  bool wait_until(const std::string& body, std::chrono::milliseconds timeout,
                  nlohmann::json args = nlohmann::json::array()) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (script(body, args) == true) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  // Saves a PNG of the viewport; returns its size in bytes.
  size_t screenshot(const std::string& path) {
    auto png = base64_decode(session_command("GET", "/screenshot", nullptr).get<std::string>());
    std::ofstream(path, std::ios::binary) << png;
    return png.size();
  }

  const std::string& log_path() const { return log_path_; }

 private:
  void open_session() {
    nlohmann::json args = {"--headless",
                           "--no-sandbox",
                           "--disable-gpu",
                           "--disable-quic",
                           "--no-first-run",
                           "--disable-background-networking",
                           "--disable-component-update",
                           "--disable-sync",
                           "--disable-dev-shm-usage",
                           "--window-size=1400,1000",
                           "--user-data-dir=" + profile_};
    nlohmann::json capabilities = {
        {"capabilities",
         {{"alwaysMatch",
           {{"browserName", "chrome"},
            {"goog:chromeOptions", {{"binary", kChromiumBinary}, {"args", args}}}}}}}};
    auto created = command("POST", "/session", capabilities);
    session_ = created.value("sessionId", "");
    if (session_.empty()) throw std::runtime_error("no WebDriver session: " + created.dump());
  }

  void stop_driver() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  void start_driver() {
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      int log = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (log >= 0) {
        dup2(log, STDOUT_FILENO);
        dup2(log, STDERR_FILENO);
      }
      const std::string port = "--port=" + std::to_string(port_);
      execl(kChromeDriverBinary, kChromeDriverBinary, port.c_str(), "--allowed-ips=127.0.0.1",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      auto status = driver_.get("/status");
      if (status.status == 200 && status.json()["value"].value("ready", false)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw std::runtime_error("chromedriver did not start; see " + log_path_);
  }

  nlohmann::json session_command(const std::string& method, const std::string& path,
                                 const nlohmann::json& body) {
    return command(method, "/session/" + session_ + path, body);
  }

  // Sends one WebDriver command and returns its "value"; a WebDriver error becomes an exception.
  nlohmann::json command(const std::string& method, const std::string& path,
                         const nlohmann::json& body) {
    const std::string text = body.is_null() ? std::string() : body.dump();
    auto response = driver_.request(method, path, body.is_null() ? nullptr : &text);
    auto json = response.json();
    if (response.status != 200 || !json.is_object() || !json.contains("value")) {
      throw std::runtime_error("WebDriver " + method + " " + path +
                               " failed: " + std::to_string(response.status) + " " +
                               response.body.substr(0, 500) + response.error);
    }
    return json["value"];
  }

  int port_;
  HttpClient driver_;
  std::string log_path_;
  std::string profile_;
  pid_t pid_ = -1;
  std::string session_;
};

}  // namespace wallet::test
