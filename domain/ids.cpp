// UUID validation and generation, and the idempotency key syntax of SPEC.md section 2.
#include "domain/ids.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <thread>

namespace wallet::domain {
namespace {

constexpr std::size_t kUuidLength = 36;

bool is_hyphen_position(std::size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

char to_lower_ascii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::mt19937_64 make_engine() {
  std::array<std::uint32_t, 8> seed{};
  try {
    std::random_device device;
    for (auto& word : seed) word = device();
  } catch (...) {
    // No entropy source: fall back to values that still differ per thread and per start.
    const auto now = static_cast<std::uint64_t>(
        std::chrono::high_resolution_clock::now().time_since_epoch().count());
    const auto thread =
        static_cast<std::uint64_t>(std::hash<std::thread::id>{}(std::this_thread::get_id()));
    seed[0] = static_cast<std::uint32_t>(now);
    seed[1] = static_cast<std::uint32_t>(now >> 32);
    seed[2] = static_cast<std::uint32_t>(thread);
    seed[3] = static_cast<std::uint32_t>(thread >> 32);
  }
  std::seed_seq sequence(seed.begin(), seed.end());
  return std::mt19937_64(sequence);
}

}  // namespace

bool is_uuid(std::string_view text) {
  if (text.size() != kUuidLength) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (is_hyphen_position(i) ? text[i] != '-' : !is_hex(text[i])) return false;
  }
  return true;
}

std::optional<std::string> normalize_uuid(std::string_view text) {
  if (!is_uuid(text)) return std::nullopt;
  std::string out(text);
  for (char& c : out) c = to_lower_ascii(c);
  return out;
}

namespace {
thread_local std::mt19937_64 uuid_engine = make_engine();
}  // namespace

void seed_uuids_for_simulation(std::uint64_t seed) { uuid_engine.seed(seed); }

std::string new_uuid_v4() {
  auto& engine = uuid_engine;
  std::array<std::uint8_t, 16> bytes{};
  const std::uint64_t high = engine();
  const std::uint64_t low = engine();
  for (std::size_t i = 0; i < 8; ++i) {
    bytes[i] = static_cast<std::uint8_t>(high >> (56 - 8 * i));
    bytes[8 + i] = static_cast<std::uint8_t>(low >> (56 - 8 * i));
  }
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0F) | 0x40);  // version 4
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3F) | 0x80);  // variant 10xx (RFC 4122)

  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(kUuidLength);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0x0F];
  }
  return out;
}

bool is_valid_idempotency_key(std::string_view key) {
  if (key.empty() || key.size() > kMaxIdempotencyKeyLength) return false;
  for (char c : key) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x21 || byte > 0x7E) return false;
  }
  return true;
}

}  // namespace wallet::domain
