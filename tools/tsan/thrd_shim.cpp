// ThreadSanitizer shim for the WALLET_SANITIZE=thread build, LD_PRELOADed into the services:
// librdkafka starts its threads with C11 thrd_create, which GCC 12's TSan runtime (the one
// used here) does not intercept, so those threads run without TSan state and the first malloc in
// one of them crashes the process (SIGSEGV in SizeClassAllocator64LocalCache::Allocate under
// rdk:broker threads). Routing thrd_create/join/detach through pthread_* makes TSan see them.
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>
namespace {

struct Start {
  thrd_start_t run;
  void* arg;
};

void* trampoline(void* raw) {
  Start start = *static_cast<Start*>(raw);
  free(raw);
  return reinterpret_cast<void*>(static_cast<intptr_t>(start.run(start.arg)));
}

}  // namespace

extern "C" int thrd_create(thrd_t* thread, thrd_start_t run, void* arg) {
  auto* start = static_cast<Start*>(malloc(sizeof(Start)));
  if (!start) return thrd_nomem;
  *start = {run, arg};
  const int rc = pthread_create(reinterpret_cast<pthread_t*>(thread), nullptr, trampoline, start);
  if (rc != 0) free(start);
  return rc == 0 ? thrd_success : rc == ENOMEM ? thrd_nomem : thrd_error;
}
extern "C" int thrd_join(thrd_t thread, int* result) {
  void* value = nullptr;
  if (pthread_join(static_cast<pthread_t>(thread), &value) != 0) return thrd_error;
  if (result) *result = static_cast<int>(reinterpret_cast<intptr_t>(value));
  return thrd_success;
}
extern "C" int thrd_detach(thrd_t thread) {
  return pthread_detach(static_cast<pthread_t>(thread)) == 0 ? thrd_success : thrd_error;
}
