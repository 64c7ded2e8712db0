// memory.cc — the memory debugger for JS: settings, counters, leak and heap
// reports, traces, snapshots, the corruption check, the usage callback, and the
// environment's bookkeeping of native objects (V8 external memory, cleanup at
// exit).
//
// The TS layer validates and names fields; this file packs structs and hands
// report strings over. Reports come as text plus JSON (parsed in TS). JS never
// sees a raw pointer: blocks are named by id, snapshots are wrapped objects.
#include "addon.h"
#include "usage_channel.h"

#include <atomic>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>
#include <unordered_set>

extern "C" {
#include "core/internal.h"
#include "runtime/model.h"
}

// ---- the environment's native objects -------------------------------------------

namespace {

struct EnvResources {
  std::unordered_set<NativeResource *> live;
  int64_t reported = 0;                  // bytes told to V8 so far
  int64_t v8_total = 0;                  // V8's external-memory figure after our last adjustment
  Napi::FunctionReference snapshot_ctor;  // NativeMemorySnapshot of this environment
};

std::mutex g_resources_lock;
std::unordered_map<napi_env, EnvResources *> g_resources;

EnvResources *ResourcesOf(napi_env env) {  // call with the lock held
  auto it = g_resources.find(env);
  return it == g_resources.end() ? nullptr : it->second;
}

// The cleanup hook: the environment is going away (worker exit, process exit).
// ObjectWrap finalizers are not a promise at teardown, so every native object
// still alive is released here; a destructor that runs later finds it gone.
void ReleaseEnvResources(napi_env env) {
  EnvResources *r;
  {
    std::lock_guard<std::mutex> hold(g_resources_lock);
    r = ResourcesOf(env);
    g_resources.erase(env);
  }
  if (!r) return;
  bool released = !r->live.empty();
  for (NativeResource *res : r->live) res->ReleaseAtExit();
  delete r;
  // What the releases logged (a model's leak report) reaches the sinks before
  // the process ends: the logger thread writes asynchronously.
  if (released) hyperionLogFlush(1000);
}

}  // namespace

void TrackResource(Napi::Env env, NativeResource *resource) {
  std::lock_guard<std::mutex> hold(g_resources_lock);
  EnvResources *r = ResourcesOf(env);
  if (r) r->live.insert(resource);
}

void UntrackResource(Napi::Env env, NativeResource *resource) {
  std::lock_guard<std::mutex> hold(g_resources_lock);
  EnvResources *r = ResourcesOf(env);
  if (r) r->live.erase(resource);
}

// Tell V8 about the pool bytes this environment's objects hold, so a JS object
// that keeps a big native model alive weighs what it costs. Main thread only
// (called from bindings); a change both under 64 KiB and under an eighth of the
// figure waits for a later call.
void NoteExternalMemory(Napi::Env env) {
  int64_t delta = 0;
  {
    std::lock_guard<std::mutex> hold(g_resources_lock);
    EnvResources *r = ResourcesOf(env);
    if (!r) return;
    int64_t now = 0;
    for (NativeResource *res : r->live) now += (int64_t)res->NativeBytes();
    delta = now - r->reported;
    int64_t magnitude = delta < 0 ? -delta : delta;
    int64_t scale = now > r->reported ? now : r->reported;
    if (delta == 0 || (magnitude < (64 << 10) && magnitude * 8 < scale)) return;  // small and relatively small
    r->reported = now;
  }
  int64_t total = Napi::MemoryManagement::AdjustExternalMemory(env, delta);
  std::lock_guard<std::mutex> hold(g_resources_lock);
  EnvResources *r = ResourcesOf(env);
  if (r) r->v8_total = total;
}

static Napi::Value ReportedExternalMemory(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  NoteExternalMemory(env);
  std::lock_guard<std::mutex> hold(g_resources_lock);
  EnvResources *r = ResourcesOf(env);
  Napi::Object o = Napi::Object::New(env);
  o.Set("bytes", r ? (double)r->reported : 0.0);
  o.Set("objects", r ? (double)r->live.size() : 0.0);
  o.Set("v8ExternalBytes", r ? (double)r->v8_total : 0.0);
  return o;
}

// ---- small helpers ---------------------------------------------------------------

static double NumberOr(Napi::Object o, const char *key, double fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

static Napi::Value TakeString(Napi::Env env, char *s) {
  if (!s) return env.Null();
  Napi::String out = Napi::String::New(env, s);
  hyperionFree(s);
  return out;
}

// {text, json} from a report function's two strings (either may be NULL).
static Napi::Object ReportObject(Napi::Env env, char *text, char *json) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("text", TakeString(env, text));
  o.Set("json", TakeString(env, json));
  return o;
}

static Napi::Object TagTable(Napi::Env env, const hyperion_memory_tag_info *tags) {
  Napi::Object o = Napi::Object::New(env);
  for (int t = 0; t < HYPERION_TAG_COUNT; t++) {
    if (!tags[t].total_allocations && !tags[t].bytes) continue;
    Napi::Object e = Napi::Object::New(env);
    e.Set("bytes", (double)tags[t].bytes);
    e.Set("blocks", (double)tags[t].blocks);
    e.Set("peakBytes", (double)tags[t].peak_bytes);
    e.Set("totalAllocations", (double)tags[t].total_allocations);
    o.Set(hyperionTagName((hyperion_mem_tag)t), e);
  }
  return o;
}

static const char *GuardModeName(hyperion_guard_mode m) {
  return m == HYPERION_GUARD_ALL ? "all" : m == HYPERION_GUARD_SAMPLED ? "sampled" : "off";
}

// ---- settings ----------------------------------------------------------------------

// initMemory(packed): the TS layer sends only the fields the caller gave; the
// rest keep the settings in force.
static Napi::Value InitMemory(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) return ThrowInvalidArgument(env, "config", "config must be an object");
  Napi::Object o = info[0].As<Napi::Object>();
  hyperion_memory_config c;
  if (o.Get("reset").ToBoolean()) hyperionMemoryConfigDefaults(&c);
  else hyperionGetMemoryConfig(&c);
  auto flag = [&](const char *key, int *out) {
    Napi::Value v = o.Get(key);
    if (v.IsBoolean()) *out = v.As<Napi::Boolean>().Value() ? 1 : 0;
  };
  auto u64 = [&](const char *key, uint64_t *out) {
    Napi::Value v = o.Get(key);
    if (v.IsNumber()) *out = (uint64_t)v.As<Napi::Number>().DoubleValue();
  };
  flag("trackAllocations", &c.track_allocations);
  flag("trackStackTraces", &c.track_stack_traces);
  flag("checkCorruption", &c.check_corruption);
  u64("initialPoolSize", &c.initial_pool_size);
  u64("maxPoolSize", &c.max_pool_size);
  if (o.Get("guardMode").IsNumber()) c.guard_mode = (hyperion_guard_mode)o.Get("guardMode").As<Napi::Number>().Int32Value();
  c.guard_sample_rate = NumberOr(o, "guardSampleRate", c.guard_sample_rate);
  u64("guardMinSize", &c.guard_min_size);
  flag("guardUnderflow", &c.guard_underflow);
  if (o.Get("guardAlignment").IsNumber()) c.guard_alignment = o.Get("guardAlignment").As<Napi::Number>().Uint32Value();
  u64("guardMaxMappings", &c.guard_max_mappings);
  u64("quarantineBytes", &c.quarantine_bytes);
  if (o.Get("quarantineBlocks").IsNumber()) c.quarantine_blocks = o.Get("quarantineBlocks").As<Napi::Number>().Uint32Value();
  Napi::Value path = o.Get("reportPath");
  if (path.IsString()) {
    std::string p = path.As<Napi::String>();
    if (p.size() >= sizeof c.report_path) return ThrowInvalidArgument(env, "reportPath", "reportPath is too long");
    std::memcpy(c.report_path, p.c_str(), p.size() + 1);
  }
  Napi::Value th = o.Get("thresholds");
  if (th.IsArray()) {
    Napi::Array a = th.As<Napi::Array>();
    if (a.Length() > HYPERION_MEMORY_MAX_THRESHOLDS)
      return ThrowInvalidArgument(env, "usageThresholds", "at most 8 usage thresholds");
    c.threshold_count = a.Length();
    for (uint32_t i = 0; i < a.Length(); i++) c.thresholds[i] = a.Get(i).As<Napi::Number>().DoubleValue();
  }
  if (hyperionInitMemory(&c) != HYPERION_OK) return ThrowLastError(env);
  NoteExternalMemory(env);
  return env.Undefined();
}

static Napi::Value MemoryConfig(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  hyperion_memory_config c;
  hyperionGetMemoryConfig(&c);
  Napi::Object o = Napi::Object::New(env);
  o.Set("trackAllocations", Napi::Boolean::New(env, c.track_allocations != 0));
  o.Set("trackStackTraces", Napi::Boolean::New(env, c.track_stack_traces != 0));
  o.Set("checkCorruption", Napi::Boolean::New(env, c.check_corruption != 0));
  o.Set("initialPoolSize", (double)c.initial_pool_size);
  o.Set("maxPoolSize", (double)c.max_pool_size);
  o.Set("guardMode", GuardModeName(c.guard_mode));
  o.Set("guardSampleRate", c.guard_sample_rate);
  o.Set("guardMinSize", (double)c.guard_min_size);
  o.Set("guardUnderflow", Napi::Boolean::New(env, c.guard_underflow != 0));
  o.Set("guardAlignment", (double)c.guard_alignment);
  o.Set("guardMaxMappings", (double)c.guard_max_mappings);
  o.Set("quarantineBytes", (double)c.quarantine_bytes);
  o.Set("quarantineBlocks", (double)c.quarantine_blocks);
  o.Set("reportPath", c.report_path);
  Napi::Array th = Napi::Array::New(env, c.threshold_count);
  for (uint32_t i = 0; i < c.threshold_count; i++) th.Set(i, c.thresholds[i]);
  o.Set("usageThresholds", th);
  return o;
}

static Napi::Value EnableStackTraces(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsBoolean()) return ThrowInvalidArgument(env, "on", "on must be a boolean");
  if (hyperionEnableStackTraces(info[0].As<Napi::Boolean>().Value() ? 1 : 0) != HYPERION_OK) return ThrowLastError(env);
  return env.Undefined();
}

// ---- usage thresholds -> JS ------------------------------------------------------

void UsageChannel::Open(Napi::Env env, Napi::Function fn, const char *name) {
  Napi::ThreadSafeFunction fresh = Napi::ThreadSafeFunction::New(env, fn, name, 0, 1);
  fresh.Unref(env);  // a callback alone does not keep the process alive
  std::lock_guard<std::mutex> hold(lock_);
  if (tsfn_) tsfn_.Release();
  tsfn_ = fresh;
}

void UsageChannel::Close() {
  std::lock_guard<std::mutex> hold(lock_);
  if (tsfn_) tsfn_.Release();
  tsfn_ = Napi::ThreadSafeFunction();
}

bool UsageChannel::IsOpen() {
  std::lock_guard<std::mutex> hold(lock_);
  return (bool)tsfn_;
}

static void DeliverUsage(Napi::Env env, Napi::Function fn, hyperion_memory_usage_event *e) {
  if (env != nullptr && fn != nullptr) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("threshold", e->threshold);
    o.Set("rising", Napi::Boolean::New(env, e->rising != 0));
    o.Set("inUseBytes", (double)e->in_use_bytes);
    o.Set("limitBytes", (double)e->limit_bytes);
    o.Set("tag", hyperionTagName(e->tag));
    fn.Call({o});
    if (env.IsExceptionPending()) env.GetAndClearPendingException();  // the TS wrapper already catches
  }
  delete e;
}

void UsageChannel::Post(const hyperion_memory_usage_event &event) {
  std::lock_guard<std::mutex> hold(lock_);
  if (!tsfn_) return;
  auto *copy = new (std::nothrow) hyperion_memory_usage_event(event);
  if (!copy) return;
  if (tsfn_.NonBlockingCall(copy, DeliverUsage) != napi_ok) delete copy;
}

void UsageChannel::Callback(const hyperion_memory_usage_event *event, void *user_data) {
  static_cast<UsageChannel *>(user_data)->Post(*event);
}

namespace {

UsageChannel g_usage;            // the global thresholds' channel
std::mutex g_usage_owner_lock;
napi_env g_usage_env = nullptr;  // the environment that owns the callback

void ReleaseUsage(napi_env env) {
  std::lock_guard<std::mutex> hold(g_usage_owner_lock);
  if (env && g_usage_env != env) return;  // another environment owns it
  hyperionSetMemoryUsageCallback(nullptr, nullptr);
  g_usage.Close();
  g_usage_env = nullptr;
}

}  // namespace

static Napi::Value SetUsageCallback(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction() && !info[0].IsNull())
    return ThrowInvalidArgument(env, "onUsage", "onUsage must be a function or null");
  ReleaseUsage(nullptr);
  if (info[0].IsFunction()) {
    std::lock_guard<std::mutex> hold(g_usage_owner_lock);
    g_usage.Open(env, info[0].As<Napi::Function>(), "hyperion-memory-usage");
    g_usage_env = env;
    hyperionSetMemoryUsageCallback(UsageChannel::Callback, &g_usage);
  }
  return env.Undefined();
}

// ---- counters and statistics -----------------------------------------------------

static Napi::Value MemoryStats(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  NoteExternalMemory(env);
  hyperion_memory_stats s;
  hyperionGetMemoryStats(&s);
  Napi::Object o = Napi::Object::New(env);
  o.Set("inUseBytes", (double)s.in_use_bytes);
  o.Set("peakBytes", (double)s.peak_bytes);
  o.Set("activeAllocations", (double)s.active_allocations);
  o.Set("totalAllocations", (double)s.total_allocations);
  o.Set("totalFrees", (double)s.total_frees);
  o.Set("failedAllocations", (double)s.failed_allocations);
  o.Set("limitBytes", (double)s.limit_bytes);
  o.Set("mappedBytes", (double)s.mapped_bytes);
  Napi::Object tags = Napi::Object::New(env);
  for (int t = 0; t < HYPERION_TAG_COUNT; t++) {
    if (!s.tag_blocks[t]) continue;
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("bytes", (double)s.tag_bytes[t]);
    entry.Set("blocks", (double)s.tag_blocks[t]);
    tags.Set(hyperionTagName((hyperion_mem_tag)t), entry);
  }
  o.Set("byTag", tags);
  return o;
}

static Napi::Value DebugInfo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  NoteExternalMemory(env);
  hyperion_memory_debug_info d;
  hyperionGetMemoryDebugInfo(&d);
  Napi::Object o = Napi::Object::New(env);
  o.Set("tracking", Napi::Boolean::New(env, d.tracking != 0));
  o.Set("stackTraces", Napi::Boolean::New(env, d.stack_traces != 0));
  o.Set("checkCorruption", Napi::Boolean::New(env, d.check_corruption != 0));
  o.Set("guardPages", GuardModeName(d.guard_mode));
  const struct { const char *name; uint64_t value; } nums[] = {
      {"activeAllocations", d.active_allocations}, {"totalAllocations", d.total_allocations},
      {"totalFrees", d.total_frees},               {"failedAllocations", d.failed_allocations},
      {"inUseBytes", d.in_use_bytes},              {"peakBytes", d.peak_bytes},
      {"totalAllocatedBytes", d.total_allocated_bytes}, {"limitBytes", d.limit_bytes},
      {"trackedBlocks", d.tracked_blocks},         {"trackedBytes", d.tracked_bytes},
      {"uniqueStacks", d.unique_stacks},           {"nextSequence", d.next_id},
      {"guardedBlocks", d.guarded_blocks},         {"guardedBytes", d.guarded_bytes},
      {"quarantinedBlocks", d.quarantined_blocks}, {"quarantinedBytes", d.quarantined_bytes},
      {"guardMappings", d.guard_mappings},         {"guardFallbacks", d.guard_fallbacks},
      {"doubleFrees", d.double_frees},             {"invalidFrees", d.invalid_frees},
      {"corruptedBlocks", d.corrupted_blocks},
  };
  for (const auto &n : nums) o.Set(n.name, (double)n.value);
  o.Set("byTag", TagTable(env, d.tags));
  return o;
}

static Napi::Value HeapStats(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  NoteExternalMemory(env);
  hyperion_heap_stats s;
  hyperionGetHeapStats(&s);
  Napi::Object o = Napi::Object::New(env);
  const struct { const char *name; uint64_t value; } nums[] = {
      {"addressSpaceBytes", s.address_space_bytes}, {"reservedBytes", s.reserved_bytes},
      {"committedBytes", s.committed_bytes},        {"inUseBytes", s.in_use_bytes},
      {"allocatedBytes", s.allocated_bytes},        {"peakBytes", s.peak_bytes},
      {"limitBytes", s.limit_bytes},                {"freeBytes", s.free_bytes},
      {"largestFreeBlock", s.largest_free_block},   {"slabFreeBytes", s.slab_free_bytes},
      {"metadataBytes", s.metadata_bytes},          {"guardMappedBytes", s.guard_mapped_bytes},
      {"quarantineBytes", s.quarantine_bytes},      {"mappedBytes", s.mapped_bytes},
      {"mappedResidentBytes", s.mapped_resident_bytes},
  };
  for (const auto &n : nums) o.Set(n.name, (double)n.value);
  Napi::Object frag = Napi::Object::New(env);
  frag.Set("internal", s.fragmentation_internal);
  frag.Set("external", s.fragmentation_external);
  frag.Set("reserved", s.fragmentation_reserved);
  o.Set("fragmentation", frag);
  if (s.rss_known) {
    Napi::Object rss = Napi::Object::New(env);
    rss.Set("bytes", (double)s.rss_bytes);
    rss.Set("anonBytes", (double)s.rss_anon_bytes);
    rss.Set("fileBytes", (double)s.rss_file_bytes);
    rss.Set("shmemBytes", (double)s.rss_shmem_bytes);
    o.Set("rss", rss);
  } else {
    o.Set("rss", env.Null());
  }
  o.Set("byTag", TagTable(env, s.tags));
  return o;
}

// ---- reports -------------------------------------------------------------------------

// checkLeaks({minId, tagMask, maxGroups, text, json, model})
static Napi::Value CheckLeaks(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].IsObject() ? info[0].As<Napi::Object>() : Napi::Object::New(env);
  hyperion_leak_filter f{};
  if (o.Has("model")) {
    // only blocks charged to this model (and its sessions)
    hy_model *m = NativeModelOf(env, o.Get("model"));
    if (!m) return ThrowInvalidArgument(env, "model", "model must be a loaded model that is not disposed");
    f.budget = m->budget;
  }
  f.min_id = (uint64_t)NumberOr(o, "minId", 0);
  f.tag_mask = (uint32_t)NumberOr(o, "tagMask", 0);
  f.max_groups = (uint32_t)NumberOr(o, "maxGroups", 0);
  bool want_text = o.Get("text").ToBoolean(), want_json = o.Get("json").ToBoolean();
  hyperion_leak_summary s{};
  char *text = nullptr, *json = nullptr;
  if (hyperionCheckMemoryLeaks(&f, &s, want_text ? &text : nullptr, want_json ? &json : nullptr) != HYPERION_OK)
    return ThrowLastError(env);
  Napi::Object r = ReportObject(env, text, json);
  r.Set("bytes", (double)s.bytes);
  r.Set("blocks", (double)s.blocks);
  r.Set("groups", (double)s.groups);
  r.Set("untrackedBlocks", (double)s.untracked_blocks);
  return r;
}

static Napi::Value AllocationTrace(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) return ThrowInvalidArgument(env, "id", "id must be a number");
  char *text = nullptr, *json = nullptr;
  if (hyperionGetAllocationTrace((uint64_t)info[0].As<Napi::Number>().DoubleValue(), &text, &json) != HYPERION_OK)
    return ThrowLastError(env);
  return ReportObject(env, text, json);
}

static Napi::Value CheckCorruption(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  hyperion_corruption_summary s{};
  char *text = nullptr, *json = nullptr;
  if (hyperionCheckCorruption(&s, &text, &json) != HYPERION_OK) return ThrowLastError(env);
  Napi::Object r = ReportObject(env, text, json);
  r.Set("checkedBlocks", (double)s.checked_blocks);
  r.Set("damagedBlocks", (double)s.damaged_blocks);
  return r;
}

// ---- snapshots ---------------------------------------------------------------------
//
// A NativeSnapshot owns one hy_mem_snapshot; free() releases it at once, the
// garbage collector otherwise.

class SnapshotHandle : public Napi::ObjectWrap<SnapshotHandle> {
 public:
  SnapshotHandle(const Napi::CallbackInfo &info) : Napi::ObjectWrap<SnapshotHandle>(info) {
    if (hyperionTakeMemorySnapshot(&snapshot_) != HYPERION_OK) ThrowLastError(info.Env());
  }
  ~SnapshotHandle() override { hyperionFreeMemorySnapshot(snapshot_); }
  const hy_mem_snapshot *snapshot() const { return snapshot_; }

  Napi::Value Free(const Napi::CallbackInfo &info) {
    hyperionFreeMemorySnapshot(snapshot_);
    snapshot_ = nullptr;
    return info.Env().Undefined();
  }
  Napi::Value Freed(const Napi::CallbackInfo &info) { return Napi::Boolean::New(info.Env(), snapshot_ == nullptr); }

 private:
  hy_mem_snapshot *snapshot_ = nullptr;
};

static const hy_mem_snapshot *SnapshotOf(Napi::Env env, Napi::Value v, Napi::Function ctor, const char *field) {
  if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(ctor)) {
    ThrowInvalidArgument(env, field, "expected a snapshot from takeMemorySnapshot()");
    return nullptr;
  }
  const hy_mem_snapshot *s = SnapshotHandle::Unwrap(v.As<Napi::Object>())->snapshot();
  if (!s) {
    hy_field fields[] = {HY_TXT("field", field)};
    hy_error_raise(HYPERION_DISPOSED, __FILE__, __LINE__, "take a new snapshot", fields, 1, "%s: the snapshot was freed", field);
    ThrowLastError(env);
  }
  return s;
}

static Napi::Value CompareSnapshots(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Function ctor;
  {
    std::lock_guard<std::mutex> hold(g_resources_lock);
    EnvResources *r = ResourcesOf(env);
    if (r) ctor = r->snapshot_ctor.Value();
  }
  if (ctor.IsEmpty()) return env.Undefined();
  const hy_mem_snapshot *a = SnapshotOf(env, info[0], ctor, "a");
  if (!a) return env.Undefined();
  const hy_mem_snapshot *b = SnapshotOf(env, info[1], ctor, "b");
  if (!b) return env.Undefined();
  uint32_t top = info[2].IsNumber() ? info[2].As<Napi::Number>().Uint32Value() : 0;
  char *text = nullptr, *json = nullptr;
  if (hyperionCompareMemorySnapshots(a, b, top, &text, &json) != HYPERION_OK) return ThrowLastError(env);
  return ReportObject(env, text, json);
}

void RegisterMemory(Napi::Env env, Napi::Object exports) {
  auto *resources = new EnvResources();
  {
    std::lock_guard<std::mutex> hold(g_resources_lock);
    g_resources[env] = resources;
  }
  exports.Set("memoryStats", Napi::Function::New(env, MemoryStats, "memoryStats"));
  exports.Set("initMemory", Napi::Function::New(env, InitMemory, "initMemory"));
  exports.Set("memoryConfig", Napi::Function::New(env, MemoryConfig, "memoryConfig"));
  exports.Set("enableStackTraces", Napi::Function::New(env, EnableStackTraces, "enableStackTraces"));
  exports.Set("setMemoryUsageCallback", Napi::Function::New(env, SetUsageCallback, "setMemoryUsageCallback"));
  exports.Set("memoryDebugInfo", Napi::Function::New(env, DebugInfo, "memoryDebugInfo"));
  exports.Set("heapStats", Napi::Function::New(env, HeapStats, "heapStats"));
  exports.Set("checkMemoryLeaks", Napi::Function::New(env, CheckLeaks, "checkMemoryLeaks"));
  exports.Set("allocationTrace", Napi::Function::New(env, AllocationTrace, "allocationTrace"));
  exports.Set("checkCorruption", Napi::Function::New(env, CheckCorruption, "checkCorruption"));
  exports.Set("compareMemorySnapshots", Napi::Function::New(env, CompareSnapshots, "compareMemorySnapshots"));
  exports.Set("externalMemory", Napi::Function::New(env, ReportedExternalMemory, "externalMemory"));
  Napi::Function snap = SnapshotHandle::DefineClass(
      env, "NativeMemorySnapshot",
      {SnapshotHandle::InstanceMethod("free", &SnapshotHandle::Free),
       SnapshotHandle::InstanceMethod("freed", &SnapshotHandle::Freed)});
  resources->snapshot_ctor = Napi::Persistent(snap);
  exports.Set("NativeMemorySnapshot", snap);
  napi_env raw = env;
  env.AddCleanupHook([raw]() {
    ReleaseUsage(raw);
    ReleaseEnvResources(raw);
  });
}
