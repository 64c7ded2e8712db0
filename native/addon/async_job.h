// async_job.h — run work on a native thread of its own and settle a Promise on
// the main thread. Loading and evaluation use it: neither the main thread nor
// libuv's small shared pool (which fs and dns need) does heavy work.
#ifndef HYPERION_ASYNC_JOB_H
#define HYPERION_ASYNC_JOB_H

#include "addon.h"

#include <memory>

class AsyncJob {
 public:
  virtual ~AsyncJob() = default;
  // On the job's native thread: no napi calls. Return HYPERION_OK or a status
  // with the thread's last-error record filled (it is copied for the rejection).
  virtual hyperion_status Execute() = 0;
  // On the main thread after a successful Execute: the value to resolve with.
  virtual Napi::Value Result(Napi::Env env) = 0;
  // On the main thread when the environment is gone or the job failed: release
  // whatever Execute produced. Also called from the job thread when the
  // environment shut down before the result could be delivered.
  virtual void Discard() {}

  hyperion_status status = HYPERION_OK;
  hyperion_error error{};
};

// Start `job` on a new native thread; the returned promise resolves with
// job->Result() or rejects with a HyperionError built from the job's error.
Napi::Promise StartAsyncJob(Napi::Env env, std::unique_ptr<AsyncJob> job, const char *name);

#endif
