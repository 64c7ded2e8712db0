// errors.cc — C error records become HyperionError objects (better-sqlite3
// style: the TS layer hands its error class to native code, which constructs
// and throws it with a stable string code), and the JS error callback.
#include "addon.h"

#include <atomic>
#include <cstring>

extern "C" {
#include "core/internal.h"
}

static Napi::Object FieldsObject(Napi::Env env, const hyperion_error &e) {
  Napi::Object fields = Napi::Object::New(env);
  for (int i = 0; i < e.field_count; i++) {
    const hyperion_error_field &f = e.fields[i];
    if (f.is_number) fields.Set(f.name, Napi::Number::New(env, f.number));
    else fields.Set(f.name, Napi::String::New(env, f.text));
  }
  return fields;
}

Napi::Object MakeHyperionError(Napi::Env env, const hyperion_error &e) {
  Napi::Object details = Napi::Object::New(env);
  details.Set("code", hyperionStatusName(e.code));
  details.Set("category", e.category ? e.category : hyperionStatusCategory(e.code));
  details.Set("file", e.file);
  details.Set("line", e.line);
  if (e.suggestion[0]) details.Set("suggestion", e.suggestion);
  details.Set("fields", FieldsObject(env, e));
  details.Set("native", Napi::Boolean::New(env, true));
  AddonData *data = GetAddonData(env);
  Napi::String message = Napi::String::New(env, e.message);
  if (data && !data->error_class.IsEmpty()) {
    return data->error_class.New({message, details});
  }
  Napi::Error plain = Napi::Error::New(env, e.message);
  Napi::Object obj = plain.Value();
  for (const char *key : {"code", "category", "file", "line", "suggestion"})
    if (details.Has(key)) obj.Set(key, details.Get(key));
  return obj;
}

Napi::Value ThrowLastError(Napi::Env env) {
  const hyperion_error *e = hyperionGetLastError();
  hyperion_error copy = *e;
  if (copy.code == HYPERION_OK) {  // a caller bug: keep the failure visible anyway
    copy.code = HYPERION_INTERNAL;
    copy.category = "internal";
    std::snprintf(copy.message, sizeof copy.message, "operation failed without an error record");
  }
  Napi::Error(env, MakeHyperionError(env, copy)).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value ThrowInvalidArgument(Napi::Env env, const char *field, const char *message) {
  hy_field fields[] = {HY_TXT("field", field)};
  hy_error_raise(HYPERION_INVALID_ARGUMENT, __FILE__, __LINE__, nullptr, fields, 1, "%s", message);
  return ThrowLastError(env);
}

// ---- JS error callback -----------------------------------------------------

static void DeliverError(Napi::Env env, Napi::Function callback, hyperion_error *error) {
  if (env != nullptr && callback != nullptr) {
    Napi::Object err = MakeHyperionError(env, *error);
    callback.Call({err});
    if (env.IsExceptionPending()) {
      // A throwing user callback must not take the process down from a tsfn.
      Napi::Error e = env.GetAndClearPendingException();
      hyperionLog(HYPERION_LOG_ERROR, HYPERION_LOG_GENERAL, "the error callback threw: %s",
                  e.Message().c_str());
    }
  }
  hyperionFree(error);
}

static void OnNativeError(const hyperion_error *error, void *user_data) {
  AddonData *data = static_cast<AddonData *>(user_data);
  void *mem = hyperionAlloc(sizeof(hyperion_error), HYPERION_TAG_BINDING);
  if (!mem) return;
  hyperion_error *copy = static_cast<hyperion_error *>(mem);
  std::memcpy(copy, error, sizeof *copy);
  napi_status status = data->error_tsfn.NonBlockingCall(copy, DeliverError);
  if (status != napi_ok) hyperionFree(copy);
}

static void ReleaseErrorCallback(AddonData *data) {
  if (data->owns_error_callback) {
    hyperionSetErrorCallback(nullptr, nullptr);
    data->owns_error_callback = false;
  }
  if (data->error_tsfn) {
    data->error_tsfn.Release();
    data->error_tsfn = Napi::ThreadSafeFunction();
  }
}

static Napi::Value SetErrorCallback(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  AddonData *data = GetAddonData(env);
  if (!info[0].IsFunction() && !info[0].IsNull() && !info[0].IsUndefined())
    return ThrowInvalidArgument(env, "callback", "callback must be a function or null");
  ReleaseErrorCallback(data);
  if (info[0].IsFunction()) {
    data->error_tsfn = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "hyperion-error-callback", 0, 1);
    data->error_tsfn.Unref(env);  // never keeps the process alive by itself
    hyperionSetErrorCallback(OnNativeError, data);
    data->owns_error_callback = true;
  }
  return env.Undefined();
}

static Napi::Value SetErrorClass(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction()) return ThrowInvalidArgument(env, "errorClass", "errorClass must be a constructor");
  GetAddonData(env)->error_class = Napi::Persistent(info[0].As<Napi::Function>());
  return env.Undefined();
}

static Napi::Value GetLastError(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  const hyperion_error *e = hyperionGetLastError();
  if (e->code == HYPERION_OK) return env.Null();
  return MakeHyperionError(env, *e);
}

static Napi::Value ClearLastError(const Napi::CallbackInfo &info) {
  hyperionClearLastError();
  return info.Env().Undefined();
}

static Napi::Value StatusNames(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  for (int s = 0; s < HYPERION_STATUS_COUNT; s++) {
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("code", s);
    entry.Set("category", hyperionStatusCategory((hyperion_status)s));
    o.Set(hyperionStatusName((hyperion_status)s), entry);
  }
  return o;
}

void RegisterErrors(Napi::Env env, Napi::Object exports) {
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass, "setErrorClass"));
  exports.Set("setErrorCallback", Napi::Function::New(env, SetErrorCallback, "setErrorCallback"));
  exports.Set("getLastError", Napi::Function::New(env, GetLastError, "getLastError"));
  exports.Set("clearLastError", Napi::Function::New(env, ClearLastError, "clearLastError"));
  exports.Set("statusNames", Napi::Function::New(env, StatusNames, "statusNames"));
  env.AddCleanupHook([env]() {
    AddonData *data = GetAddonData(env);
    if (data) ReleaseErrorCallback(data);
  });
}
