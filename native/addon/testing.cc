// testing.cc — test-only hooks, exported under `_test`. They exist so the test
// suite can reach paths a healthy runtime rarely takes: an error raised deep in
// C, records logged from a native thread. Not part of the public API.
#include "addon.h"
#include "async_job.h"

#include <unistd.h>

#include <pthread.h>
#include <string>

extern "C" {
#include "core/internal.h"
#include "model/gguf_corpus.h"
}

// Raise an error in C with structured fields, then throw it: proves the whole
// path from the C record to a HyperionError with the C file and line.
static Napi::Value RaiseError(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int code = info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : HYPERION_INTERNAL;
  std::string message = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : std::string("test error");
  hy_field fields[] = {HY_TXT("field", "testField"), HY_NUM("requested", 1536), HY_NUM("limit", 1024)};
  hy_error_raise((hyperion_status)code, __FILE__, __LINE__, "this is a test error", fields, 3, "%s", message.c_str());
  return ThrowLastError(env);
}

struct LogThreadArgs {
  int count;
  int level;
  int category;
};

static void *LogThreadMain(void *p) {
  LogThreadArgs *args = static_cast<LogThreadArgs *>(p);
  for (int i = 0; i < args->count; i++)
    hyperionLog((hyperion_log_level)args->level, (hyperion_log_category)args->category, "native thread record %d", i);
  return nullptr;
}

// Log `count` records from a fresh native thread and return how long the thread
// took (ns): logging must never wait, whatever the JS side is doing.
static Napi::Value LogFromNativeThread(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  LogThreadArgs args{info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value(),
                     info[2].As<Napi::Number>().Int32Value()};
  uint64_t start = hy_clock_monotonic_ns();
  pthread_t t;
  if (pthread_create(&t, nullptr, LogThreadMain, &args) != 0) return ThrowInvalidArgument(env, "thread", "no thread");
  pthread_join(t, nullptr);
  return Napi::Number::New(env, (double)(hy_clock_monotonic_ns() - start));
}

// A job that sleeps on its native thread and reports that thread's id, or
// fails with a C error: tests the async-job path without a model.
class SleepJob : public AsyncJob {
 public:
  SleepJob(int ms, bool fail) : ms_(ms), fail_(fail) {}
  hyperion_status Execute() override {
    usleep((useconds_t)ms_ * 1000);
    thread_id_ = hy_thread_id();
    if (fail_) {
      hy_field fields[] = {HY_NUM("elapsedMs", ms_)};
      return hy_error_raise(HYPERION_TIMEOUT, __FILE__, __LINE__, "this is a test", fields, 1, "test job failed after %d ms", ms_);
    }
    return HYPERION_OK;
  }
  Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, (double)thread_id_); }

 private:
  int ms_;
  bool fail_;
  uint64_t thread_id_ = 0;
};

static Napi::Value SleepJobStart(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  return StartAsyncJob(env, std::make_unique<SleepJob>(info[0].As<Napi::Number>().Int32Value(), info[1].ToBoolean()), "hyperion-test");
}

static Napi::Value MainThreadId(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), (double)hy_thread_id());
}

// Write the malformed-GGUF corpus (valid.gguf, NN-name.gguf..., corpus.json)
// into a folder; returns how many malformed files were written.
static Napi::Value WriteMalformedCorpus(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) return ThrowInvalidArgument(env, "dir", "dir must be a string");
  uint32_t written = 0;
  if (hy_gguf_write_malformed_corpus(info[0].As<Napi::String>().Utf8Value().c_str(), &written) != HYPERION_OK)
    return ThrowLastError(env);
  return Napi::Number::New(env, written);
}

void RegisterTesting(Napi::Env env, Napi::Object exports) {
  Napi::Object t = Napi::Object::New(env);
  t.Set("raiseError", Napi::Function::New(env, RaiseError, "raiseError"));
  t.Set("logFromNativeThread", Napi::Function::New(env, LogFromNativeThread, "logFromNativeThread"));
  t.Set("sleepJob", Napi::Function::New(env, SleepJobStart, "sleepJob"));
  t.Set("writeMalformedCorpus", Napi::Function::New(env, WriteMalformedCorpus, "writeMalformedCorpus"));
  t.Set("threadId", Napi::Function::New(env, MainThreadId, "threadId"));
  exports.Set("_test", t);
}
