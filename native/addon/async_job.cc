// async_job.cc — see async_job.h.
#include "async_job.h"

#include <mutex>
#include <pthread.h>
#include <thread>

#include "hyperion_profiler.h"

namespace {

// Whether the job's thread-safe function still exists. Node finalizes and
// frees a thread-safe function when its environment is torn down (a worker
// terminated) even while threads still hold it, so the job thread may touch it
// only under this lock and only before the finalizer has run.
struct TsfnLife {
  std::mutex lock;
  bool gone = false;
};

struct JobState;
void SettleCall(Napi::Env env, Napi::Function, std::nullptr_t *, JobState *state);
// Typed, so a call still queued when the environment is torn down reaches
// SettleCall with a null env and the state is freed (the untyped form drops
// such calls, and with them the job and whatever it loaded).
using SettleFunction = Napi::TypedThreadSafeFunction<std::nullptr_t, JobState, SettleCall>;

struct JobState {
  std::unique_ptr<AsyncJob> job;
  Napi::Promise::Deferred deferred;
  SettleFunction tsfn;
  std::shared_ptr<TsfnLife> life = std::make_shared<TsfnLife>();
  JobState(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
};

void SettleCall(Napi::Env env, Napi::Function, std::nullptr_t *, JobState *state) {
  std::unique_ptr<JobState> owned(state);
  if (env == nullptr) {  // environment torn down: nobody to tell
    state->job->Discard();
    return;
  }
  Napi::HandleScope scope(env);
  AsyncJob *job = state->job.get();
  if (job->status != HYPERION_OK) {
    job->Discard();
    state->deferred.Reject(MakeHyperionError(env, job->error));
    return;
  }
  Napi::Value result = job->Result(env);
  if (env.IsExceptionPending()) {
    job->Discard();
    state->deferred.Reject(env.GetAndClearPendingException().Value());
    return;
  }
  if (result.IsEmpty()) {  // a worker terminated meanwhile: JS can no longer run, nobody to tell
    job->Discard();
    return;
  }
  state->deferred.Resolve(result);
}

}  // namespace

Napi::Promise StartAsyncJob(Napi::Env env, std::unique_ptr<AsyncJob> job, const char *name) {
  auto *state = new JobState(env);
  state->job = std::move(job);
  Napi::Promise promise = state->deferred.Promise();
  std::shared_ptr<TsfnLife> life = state->life;
  state->tsfn = SettleFunction::New(env, name, 0, 1, static_cast<std::nullptr_t *>(nullptr),
                                    [life](Napi::Env, void *, std::nullptr_t *) {
                                      std::lock_guard<std::mutex> hold(life->lock);
                                      life->gone = true;
                                    },
                                    static_cast<void *>(nullptr));
  try {
    std::thread([state, thread_name = std::string(name)]() {
      pthread_setname_np(pthread_self(), thread_name.substr(0, 15).c_str());
      hyperionProfilerSetThreadName(thread_name.c_str());  // the name traces show (31 bytes kept)
      hyperionClearLastError();
      AsyncJob *job = state->job.get();
      job->status = job->Execute();
      if (job->status != HYPERION_OK) job->error = *hyperionGetLastError();
      SettleFunction tsfn = state->tsfn;
      std::shared_ptr<TsfnLife> life = state->life;
      std::lock_guard<std::mutex> hold(life->lock);  // the queue is unbounded: the call never waits
      napi_status called = life->gone ? napi_closing : tsfn.BlockingCall(state);
      if (called != napi_ok) {  // the environment is closing: napi_closing already let go of the function
        job->Discard();
        delete state;
      } else {
        tsfn.Release();
      }
    }).detach();
  } catch (const std::exception &) {
    // std::thread failed to start: settle right here.
    state->tsfn.Release();
    state->job->status = HYPERION_INTERNAL;
    Napi::Error err = Napi::Error::New(env, "could not start a native thread for the job");
    state->deferred.Reject(err.Value());
    delete state;
  }
  return promise;
}
