// testing.cc — test-only hooks, exported under `_test`. They exist so the test
// suite can reach paths a healthy runtime rarely takes: an error raised deep in
// C, records logged from a native thread. Not part of the public API.
#include "addon.h"
#include "async_job.h"

#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <pthread.h>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "core/internal.h"
#include "runtime/model.h"
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

// ---- the memory debugger's hooks ------------------------------------------------
//
// Each mistake is made by a named, never-inlined C function, so the reports'
// stacks (allocation, access, free) can be checked to name it.

#define HY_NAMED extern "C" __attribute__((noinline, noipa, used, visibility("default")))

static volatile unsigned char g_sink;

HY_NAMED void hyperion_addon_test_overflow(size_t size) {
  unsigned char *p = static_cast<unsigned char *>(hyperionAlloc(size, HYPERION_TAG_TEST));
  if (!p) return;
  std::memset(p, 1, size);
  volatile unsigned char *q = p;
  q[size] = 7;  // one byte past the end
  g_sink = p[0];
}

HY_NAMED void hyperion_addon_test_underflow(size_t size) {
  unsigned char *p = static_cast<unsigned char *>(hyperionAlloc(size, HYPERION_TAG_TEST));
  if (!p) return;
  volatile unsigned char *q = p;
  q[0] = 1;
  g_sink = q[-1];  // one byte before the start
}

HY_NAMED void hyperion_addon_test_use_after_free(size_t size) {
  unsigned char *p = static_cast<unsigned char *>(hyperionAlloc(size, HYPERION_TAG_TEST));
  if (!p) return;
  volatile unsigned char *q = p;
  q[10] = 5;
  hyperionFree(p);
  g_sink = q[10];  // the block sits in quarantine
}

HY_NAMED void hyperion_addon_test_double_free(size_t size) {
  void *p = hyperionAlloc(size, HYPERION_TAG_TEST);
  if (!p) return;
  hyperionFree(p);
  __asm__ volatile("" ::: "memory");
  hyperionFree(p);  // detected, reported, never freed twice
  __asm__ volatile("" ::: "memory");
}

HY_NAMED void hyperion_addon_test_invalid_free(size_t size) {
  unsigned char *p = static_cast<unsigned char *>(hyperionAlloc(size, HYPERION_TAG_TEST));
  if (!p) return;
  hyperionFree(p + 16);  // inside a block, not its start: detected, not freed
  __asm__ volatile("" ::: "memory");
  hyperionFree(p);
}

HY_NAMED void hyperion_addon_test_canary_overwrite(size_t size, void **out) {
  unsigned char *p = static_cast<unsigned char *>(hyperionAlloc(size, HYPERION_TAG_TEST));
  *out = p;
  if (!p) return;
  volatile unsigned char *q = p;
  q[size + 2] = 0;  // into the rear canary (checkCorruption on, guard pages off)
}

static void *g_model_leak = nullptr;

HY_NAMED void *hyperion_addon_test_model_leak(size_t size) {
  void *p = hyperionAlloc(size, HYPERION_TAG_TEST);
  __asm__ volatile("" ::: "memory");
  return p;
}

// memoryFault(kind, size): make one mistake. Faults stop the process; the
// detected ones (double/invalid free) return the error they raised.
static Napi::Value MemoryFault(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) return ThrowInvalidArgument(env, "kind", "kind must be a string");
  std::string kind = info[0].As<Napi::String>();
  size_t size = info[1].IsNumber() ? (size_t)info[1].As<Napi::Number>().Int64Value() : 100;
  hyperionClearLastError();
  if (kind == "overflow") hyperion_addon_test_overflow(size);
  else if (kind == "underflow") hyperion_addon_test_underflow(size);
  else if (kind == "use-after-free") hyperion_addon_test_use_after_free(size);
  else if (kind == "double-free") hyperion_addon_test_double_free(size);
  else if (kind == "invalid-free") hyperion_addon_test_invalid_free(size);
  else return ThrowInvalidArgument(env, "kind", "unknown fault kind");
  const hyperion_error *e = hyperionGetLastError();
  if (e->code == HYPERION_OK) return env.Null();
  return MakeHyperionError(env, *e);
}

// corruptCanary(size): overwrite a byte after a live block; returns a release function id.
static void *g_damaged = nullptr;
static Napi::Value CorruptCanary(const Napi::CallbackInfo &info) {
  size_t size = info[0].IsNumber() ? (size_t)info[0].As<Napi::Number>().Int64Value() : 48;
  hyperion_addon_test_canary_overwrite(size, &g_damaged);
  return Napi::Boolean::New(info.Env(), g_damaged != nullptr);
}

static Napi::Value FreeDamaged(const Napi::CallbackInfo &info) {
  hyperionClearLastError();
  hyperionFree(g_damaged);
  g_damaged = nullptr;
  const hyperion_error *e = hyperionGetLastError();
  return e->code == HYPERION_OK ? info.Env().Null() : MakeHyperionError(info.Env(), *e);
}

static Napi::Value PlantLeak(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  size_t size = (size_t)info[0].As<Napi::Number>().Int64Value();
  int tag = info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : HYPERION_TAG_TEST;
  uint64_t id = hyperionTestPlantLeak(size, (hyperion_mem_tag)tag);
  if (!id) return ThrowLastError(env);
  return Napi::BigInt::New(env, id);
}

static Napi::Value ReleasePlantedLeak(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  bool lossless = true;
  uint64_t id = info[0].IsBigInt() ? info[0].As<Napi::BigInt>().Uint64Value(&lossless)
                                   : (uint64_t)info[0].As<Napi::Number>().DoubleValue();
  if (hyperionTestReleasePlantedLeak(id) != HYPERION_OK) return ThrowLastError(env);
  return env.Undefined();
}

static Napi::Value FailAllocation(const Napi::CallbackInfo &info) {
  hyperionTestFailAllocation((uint64_t)info[0].As<Napi::Number>().Int64Value(), info[1].ToBoolean() ? 1 : 0);
  return info.Env().Undefined();
}

// allocationAttempts(allThreads): this thread's attempts, or every thread's
static Napi::Value AllocationAttempts(const Napi::CallbackInfo &info) {
  uint64_t n = info[0].ToBoolean() ? hyperionTestAllocationAttemptsAllThreads() : hyperionTestAllocationAttempts();
  return Napi::Number::New(info.Env(), (double)n);
}

static Napi::Value FailGuardMappings(const Napi::CallbackInfo &info) {
  hyperionTestFailGuardMappings(info[0].As<Napi::Number>().Uint32Value());
  return info.Env().Undefined();
}

// trimMalloc() -> { inUseBytes, freeBytes } | null: hand the C library's free
// heap pages back to the system (glibc's malloc_trim), so an RSS figure counts
// what is live rather than what malloc keeps after a peak, and report malloc's
// own figures (all arenas) for the soak's RSS drift check.
static Napi::Value TrimMalloc(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 33)
  malloc_trim(0);
  struct mallinfo2 mi = mallinfo2();
  Napi::Object o = Napi::Object::New(env);
  o.Set("inUseBytes", (double)(mi.uordblks + mi.hblkhd));
  o.Set("freeBytes", (double)mi.fordblks);
  return o;
#else
  return env.Null();
#endif
}

// allocate(size, tag) / free(handle): a block JS can hold by number, to drive
// the debugger (guard fallbacks, snapshots) without a model. The handle is an
// index into a small table here, never the address.
static std::vector<void *> g_blocks;
static Napi::Value Allocate(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  size_t size = (size_t)info[0].As<Napi::Number>().Int64Value();
  int tag = info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : HYPERION_TAG_TEST;
  void *p = hyperionAlloc(size, (hyperion_mem_tag)tag);
  if (!p) return ThrowLastError(env);
  std::memset(p, 0x5A, size);
  g_blocks.push_back(p);
  return Napi::Number::New(env, (double)(g_blocks.size() - 1));
}

static Napi::Value FreeBlock(const Napi::CallbackInfo &info) {
  size_t i = (size_t)info[0].As<Napi::Number>().Int64Value();
  if (i < g_blocks.size() && g_blocks[i]) {
    hyperionFree(g_blocks[i]);
    g_blocks[i] = nullptr;
  }
  return info.Env().Undefined();
}

// allocFreeLoop(n, size) -> ns per alloc/free pair, timed on this thread.
HY_NAMED uint64_t hyperion_addon_test_alloc_free_loop(uint32_t n, size_t size) {
  uint64_t start = hy_clock_monotonic_ns();
  for (uint32_t i = 0; i < n; i++) {
    void *p = hyperionAlloc(size, HYPERION_TAG_SCRATCH);
    if (!p) break;
    *static_cast<volatile unsigned char *>(p) = 1;
    hyperionFree(p);
  }
  return hy_clock_monotonic_ns() - start;
}

static Napi::Value AllocFreeLoop(const Napi::CallbackInfo &info) {
  uint32_t n = info[0].As<Napi::Number>().Uint32Value();
  size_t size = (size_t)info[1].As<Napi::Number>().Int64Value();
  uint64_t ns = hyperion_addon_test_alloc_free_loop(n, size);
  return Napi::Number::New(info.Env(), n ? (double)ns / n : 0.0);
}

// leakIntoModel(nativeModel, size): a block charged to the model's budget and
// left behind, as a buggy request would; freeModelLeak() frees it afterwards.
static Napi::Value LeakIntoModel(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  hy_model *m = NativeModelOf(env, info[0]);
  if (!m) return ThrowInvalidArgument(env, "model", "expected a live NativeModel");
  hy_mem_budget *outer = hyperionSetThreadMemoryBudget(m->budget);
  g_model_leak = hyperion_addon_test_model_leak((size_t)info[1].As<Napi::Number>().Int64Value());
  hyperionSetThreadMemoryBudget(outer);
  if (!g_model_leak) return ThrowLastError(env);
  return env.Undefined();
}

static Napi::Value FreeModelLeak(const Napi::CallbackInfo &info) {
  hyperionFree(g_model_leak);
  g_model_leak = nullptr;
  return info.Env().Undefined();
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
  t.Set("memoryFault", Napi::Function::New(env, MemoryFault, "memoryFault"));
  t.Set("corruptCanary", Napi::Function::New(env, CorruptCanary, "corruptCanary"));
  t.Set("freeDamaged", Napi::Function::New(env, FreeDamaged, "freeDamaged"));
  t.Set("plantLeak", Napi::Function::New(env, PlantLeak, "plantLeak"));
  t.Set("releasePlantedLeak", Napi::Function::New(env, ReleasePlantedLeak, "releasePlantedLeak"));
  t.Set("failAllocation", Napi::Function::New(env, FailAllocation, "failAllocation"));
  t.Set("allocationAttempts", Napi::Function::New(env, AllocationAttempts, "allocationAttempts"));
  t.Set("failGuardMappings", Napi::Function::New(env, FailGuardMappings, "failGuardMappings"));
  t.Set("allocate", Napi::Function::New(env, Allocate, "allocate"));
  t.Set("free", Napi::Function::New(env, FreeBlock, "free"));
  t.Set("allocFreeLoop", Napi::Function::New(env, AllocFreeLoop, "allocFreeLoop"));
  t.Set("trimMalloc", Napi::Function::New(env, TrimMalloc, "trimMalloc"));
  t.Set("leakIntoModel", Napi::Function::New(env, LeakIntoModel, "leakIntoModel"));
  t.Set("freeModelLeak", Napi::Function::New(env, FreeModelLeak, "freeModelLeak"));
  exports.Set("_test", t);
}
