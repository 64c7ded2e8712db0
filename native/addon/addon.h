// addon.h — the thin Node layer over the C core (node-addon-api).
//
// Per-environment state lives in AddonData (env.SetInstanceData), so the addon
// works in several worker_threads at once. The C core's process-wide hooks (the
// error callback, the log handler) are owned by one environment at a time and
// released by its cleanup hook.
#ifndef HYPERION_ADDON_H
#define HYPERION_ADDON_H

#include <napi.h>

extern "C" {
#include "hyperion.h"
}

struct AddonData {
  Napi::FunctionReference error_class;   // HyperionError, handed over by the TS layer
  Napi::FunctionReference model_ctor;    // NativeModel (model.cc)
  Napi::FunctionReference tokenizer_ctor;  // NativeTokenizer (tokenizer.cc)
  Napi::FunctionReference session_ctor;  // NativeSession (session.cc)
  Napi::FunctionReference request_ctor;  // NativeRequest (session.cc)
  Napi::ThreadSafeFunction error_tsfn;   // delivers C errors to the JS error callback
  Napi::ThreadSafeFunction log_tsfn;     // delivers log records to the JS log handler
  bool owns_error_callback = false;
  bool owns_log_handler = false;
};

AddonData *GetAddonData(Napi::Env env);

// Build a HyperionError object from a C error record (uses the class the TS
// layer registered; a plain Error with the same properties before that).
Napi::Object MakeHyperionError(Napi::Env env, const hyperion_error &error);

// Throw the calling thread's last C error as a HyperionError; returns undefined
// so callers can `return ThrowLastError(env);`.
Napi::Value ThrowLastError(Napi::Env env);

// Throw HYPERION_INVALID_ARGUMENT naming a field (checks done in C++ for
// values the TS layer already validated, as a second line of defence).
Napi::Value ThrowInvalidArgument(Napi::Env env, const char *field, const char *message);

// A native object owned by a JS object of one environment (a model, a session).
// Tracked per environment (memory.cc): its pool bytes are reported to V8 as
// external memory, and a cleanup hook releases whatever is still alive when the
// environment goes away (worker exit, process exit), since ObjectWrap
// destructors are not a promise at teardown. Untrack in the destructor/dispose.
class NativeResource {
 public:
  virtual ~NativeResource() = default;
  virtual void ReleaseAtExit() = 0;            // free the native side now
  virtual uint64_t NativeBytes() const = 0;    // pool bytes it holds
};
void TrackResource(Napi::Env env, NativeResource *resource);
void UntrackResource(Napi::Env env, NativeResource *resource);
// Report this environment's native bytes to V8 when they changed (main thread).
void NoteExternalMemory(Napi::Env env);

// The native model behind a NativeModel object (model.cc); null for anything
// else or a disposed one. For test hooks.
struct hy_model;
hy_model *NativeModelOf(Napi::Env env, Napi::Value value);

// Registration of each file's exports.
void RegisterErrors(Napi::Env env, Napi::Object exports);
void RegisterLogging(Napi::Env env, Napi::Object exports);
void RegisterTesting(Napi::Env env, Napi::Object exports);
void RegisterMemory(Napi::Env env, Napi::Object exports);
void RegisterModel(Napi::Env env, Napi::Object exports);
void RegisterModelFiles(Napi::Env env, Napi::Object exports);
void RegisterMaker(Napi::Env env, Napi::Object exports);
void RegisterBench(Napi::Env env, Napi::Object exports);
void RegisterKernelBench(Napi::Env env, Napi::Object exports);  // kernel_bench.cc, called by RegisterBench
void RegisterTokenizer(Napi::Env env, Napi::Object exports);
void RegisterSession(Napi::Env env, Napi::Object exports);
void RegisterProfiler(Napi::Env env, Napi::Object exports);

// A per-request profile (the JSON hyperionEndProfileCapture returns) as a JS
// object, for bindings that return it with their result; null for NULL. The
// caller still frees json (hyperionFree).
Napi::Value ProfileJsonToValue(Napi::Env env, const char *json);

#endif
