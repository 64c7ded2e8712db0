// logging.cc — logging configuration from JS, JS-originated records, and the
// bridge that hands native log records to a JS handler.
//
// The bridge never blocks the logger thread: records go through a thread-safe
// function in non-blocking mode with our own bound on records in flight; what
// does not fit is counted (hyperion_log_stats.dropped_handler), not lost silently.
#include "addon.h"

#include <atomic>
#include <cstring>
#include <string>

extern "C" {
#include "core/internal.h"
}

static std::atomic<int64_t> g_pending{0};       // records handed to JS, not yet delivered
static std::atomic<int64_t> g_max_pending{1024};

static int32_t IntField(Napi::Object o, const char *key, int32_t fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : fallback;
}
static bool BoolField(Napi::Object o, const char *key, bool fallback) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : fallback;
}

// The TS layer validates and normalizes; this only packs the struct.
static Napi::Value ConfigureLogging(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) return ThrowInvalidArgument(env, "options", "options must be an object");
  Napi::Object o = info[0].As<Napi::Object>();
  hyperion_log_config c;
  hyperionLogConfigDefaults(&c);
  c.level = (hyperion_log_level)IntField(o, "level", HYPERION_LOG_WARN);
  Napi::Value levels = o.Get("categoryLevels");
  if (levels.IsArray()) {
    Napi::Array a = levels.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length() && i < HYPERION_LOG_CATEGORY_COUNT; i++)
      c.category_level[i] = (hyperion_log_level)a.Get(i).As<Napi::Number>().Int32Value();
  }
  c.console = BoolField(o, "console", true);
  c.console_format = (hyperion_log_format)IntField(o, "consoleFormat", 0);
  Napi::Value path = o.Get("filePath");
  if (path.IsString()) {
    std::string p = path.As<Napi::String>();
    if (p.size() >= sizeof c.file_path) return ThrowInvalidArgument(env, "file", "file path is too long");
    std::memcpy(c.file_path, p.c_str(), p.size() + 1);
  }
  c.file_format = (hyperion_log_format)IntField(o, "fileFormat", 0);
  c.include_timestamp = BoolField(o, "includeTimestamp", true);
  c.include_thread_id = BoolField(o, "includeThreadId", true);
  Napi::Value max_bytes = o.Get("rotateMaxBytes");
  c.rotate_max_bytes = max_bytes.IsNumber() ? (uint64_t)max_bytes.As<Napi::Number>().DoubleValue() : 0;
  c.rotate_max_files = (uint32_t)IntField(o, "rotateMaxFiles", 5);
  c.rotate_compress = BoolField(o, "rotateCompress", false);
  c.log_content = BoolField(o, "logContent", false);
  c.queue_capacity = (size_t)IntField(o, "queueCapacity", 4096);
  if (hyperionConfigureLogging(&c) != HYPERION_OK) return ThrowLastError(env);
  return env.Undefined();
}

static Napi::Value SetLogLevel(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) return ThrowInvalidArgument(env, "level", "level must be a number");
  hyperion_status s;
  if (info[1].IsNumber())
    s = hyperionSetCategoryLogLevel((hyperion_log_category)info[1].As<Napi::Number>().Int32Value(),
                                    (hyperion_log_level)info[0].As<Napi::Number>().Int32Value());
  else
    s = hyperionSetLogLevel((hyperion_log_level)info[0].As<Napi::Number>().Int32Value());
  if (s != HYPERION_OK) return ThrowLastError(env);
  return env.Undefined();
}

// ---- records into JS ----------------------------------------------------------

static void DeliverRecord(Napi::Env env, Napi::Function handler, hyperion_log_record *r) {
  g_pending.fetch_sub(1);
  if (env != nullptr && handler != nullptr) {
    Napi::Object rec = Napi::Object::New(env);
    char when[40];
    hy_format_iso8601(r->time_ns, when, sizeof when);
    rec.Set("time", when);
    rec.Set("timeNs", Napi::BigInt::New(env, (uint64_t)r->time_ns));
    rec.Set("level", hyperionLogLevelName(r->level));
    rec.Set("category", hyperionLogCategoryName(r->category));
    rec.Set("thread", Napi::Number::New(env, (double)r->thread_id));
    rec.Set("message", r->message);
    handler.Call({rec});
    if (env.IsExceptionPending()) env.GetAndClearPendingException();  // a throwing handler loses only its record
  }
  hyperionFree(r);
}

static void OnLogRecord(const hyperion_log_record *record, void *user_data) {
  AddonData *data = static_cast<AddonData *>(user_data);
  if (g_pending.load() >= g_max_pending.load()) {
    hy_log_note_handler_drop();
    return;
  }
  size_t used = offsetof(hyperion_log_record, message) + strnlen(record->message, HYPERION_LOG_MESSAGE_MAX - 1) + 1;
  auto *copy = static_cast<hyperion_log_record *>(hyperionAlloc(sizeof(hyperion_log_record), HYPERION_TAG_BINDING));
  if (!copy) {
    hy_log_note_handler_drop();
    return;
  }
  std::memcpy(copy, record, used);
  g_pending.fetch_add(1);
  if (data->log_tsfn.NonBlockingCall(copy, DeliverRecord) != napi_ok) {
    g_pending.fetch_sub(1);
    hyperionFree(copy);
    hy_log_note_handler_drop();
  }
}

static void ReleaseLogHandler(AddonData *data) {
  if (data->owns_log_handler) {
    hyperionSetLogHandler(nullptr, nullptr);  // waits for a batch in progress
    data->owns_log_handler = false;
  }
  if (data->log_tsfn) {
    data->log_tsfn.Release();
    data->log_tsfn = Napi::ThreadSafeFunction();
  }
}

static Napi::Value SetLogHandler(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  AddonData *data = GetAddonData(env);
  if (!info[0].IsFunction() && !info[0].IsNull() && !info[0].IsUndefined())
    return ThrowInvalidArgument(env, "handler", "handler must be a function or null");
  ReleaseLogHandler(data);
  if (info[1].IsNumber()) g_max_pending.store(info[1].As<Napi::Number>().Int64Value());
  if (info[0].IsFunction()) {
    data->log_tsfn = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "hyperion-log-handler", 0, 1);
    data->log_tsfn.Unref(env);
    hyperionSetLogHandler(OnLogRecord, data);
    data->owns_log_handler = true;
  }
  return env.Undefined();
}

static Napi::Value FlushLogs(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  uint32_t timeout = info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 2000;
  return Napi::Boolean::New(env, hyperionLogFlush(timeout) == HYPERION_OK);
}

static Napi::Value PendingRecords(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), (double)g_pending.load());
}

static Napi::Value LogStats(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  hyperion_log_stats s;
  hyperionGetLogStats(&s);
  Napi::Object o = Napi::Object::New(env);
  o.Set("accepted", (double)s.accepted);
  o.Set("droppedQueue", (double)s.dropped_queue);
  o.Set("droppedHandler", (double)s.dropped_handler);
  o.Set("written", (double)s.written);
  o.Set("rotations", (double)s.rotations);
  o.Set("sinkErrors", (double)s.sink_errors);
  return o;
}

static Napi::Value Log(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsString())
    return ThrowInvalidArgument(env, "log", "log(level, category, message) takes two numbers and a string");
  auto level = (hyperion_log_level)info[0].As<Napi::Number>().Int32Value();
  auto category = (hyperion_log_category)info[1].As<Napi::Number>().Int32Value();
  if (!hyperionLogEnabled(level, category)) return env.Undefined();
  std::string message = info[2].As<Napi::String>();
  hyperionLog(level, category, "%s", message.c_str());
  return env.Undefined();
}

static Napi::Value LogContent(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsString() || !info[3].IsString())
    return ThrowInvalidArgument(env, "logContent", "logContent(level, category, label, text) takes numbers and strings");
  auto level = (hyperion_log_level)info[0].As<Napi::Number>().Int32Value();
  auto category = (hyperion_log_category)info[1].As<Napi::Number>().Int32Value();
  if (!hyperionLogEnabled(level, category)) return env.Undefined();
  std::string label = info[2].As<Napi::String>();
  std::string text = info[3].As<Napi::String>();
  hyperionLogContent(level, category, label.c_str(), text.data(), text.size());
  return env.Undefined();
}

void RegisterLogging(Napi::Env env, Napi::Object exports) {
  exports.Set("configureLogging", Napi::Function::New(env, ConfigureLogging, "configureLogging"));
  exports.Set("setLogLevel", Napi::Function::New(env, SetLogLevel, "setLogLevel"));
  exports.Set("setLogHandler", Napi::Function::New(env, SetLogHandler, "setLogHandler"));
  exports.Set("flushLogs", Napi::Function::New(env, FlushLogs, "flushLogs"));
  exports.Set("pendingLogRecords", Napi::Function::New(env, PendingRecords, "pendingLogRecords"));
  exports.Set("logStats", Napi::Function::New(env, LogStats, "logStats"));
  exports.Set("log", Napi::Function::New(env, Log, "log"));
  exports.Set("logContent", Napi::Function::New(env, LogContent, "logContent"));
  env.AddCleanupHook([env]() {
    AddonData *data = GetAddonData(env);
    if (data) ReleaseLogHandler(data);
  });
}
