// memory.cc — the native allocator's figures for JS.
#include "addon.h"

static Napi::Value MemoryStats(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
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

void RegisterMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("memoryStats", Napi::Function::New(env, MemoryStats, "memoryStats"));
}
