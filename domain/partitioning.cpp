#include "domain/partitioning.hpp"

#include <openssl/evp.h>

#include <cctype>
#include <string>

namespace wallet::domain {

int partition_of(std::string_view user_id, int partitions) {
  if (partitions < 1) return 0;
  std::string text(user_id);
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  // md5 here is a spreading function both sides compute cheaply, not a security measure.
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_md5(), nullptr);
  const uint32_t head = (static_cast<uint32_t>(digest[0]) << 24) |
                        (static_cast<uint32_t>(digest[1]) << 16) |
                        (static_cast<uint32_t>(digest[2]) << 8) | static_cast<uint32_t>(digest[3]);
  return static_cast<int>(head % static_cast<uint32_t>(partitions));
}

}  // namespace wallet::domain
