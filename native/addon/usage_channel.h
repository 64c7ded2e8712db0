// usage_channel.h — memory usage events from native threads to a JS callback.
//
// The C core calls a usage callback on whatever thread allocated or freed,
// with no allocator lock held. A UsageChannel queues a copy of the event on a
// thread-safe function (non-blocking: an allocation never waits for JS) and
// the callback runs on the main thread with {threshold, rising, inUseBytes,
// limitBytes, tag}. The copy comes from the C++ heap, not the pool: a notice
// that memory is nearly exhausted must not be refused by the limit it reports.
// Used for the global thresholds (memory.cc) and for each model's (limits.cc).
#ifndef HYPERION_USAGE_CHANNEL_H
#define HYPERION_USAGE_CHANNEL_H

#include <napi.h>

#include <mutex>

extern "C" {
#include "hyperion_memory.h"
}

class UsageChannel {
 public:
  // Main thread. Replaces any function already open. The channel never keeps
  // the process alive by itself.
  void Open(Napi::Env env, Napi::Function fn, const char *name);
  // Main thread. After it, posts are dropped.
  void Close();
  bool IsOpen();
  // Any thread; never blocks.
  void Post(const hyperion_memory_usage_event &event);
  // A hyperion_memory_usage_callback: user_data is the UsageChannel.
  static void Callback(const hyperion_memory_usage_event *event, void *user_data);

 private:
  std::mutex lock_;
  Napi::ThreadSafeFunction tsfn_;  // guarded by lock_
};

#endif
