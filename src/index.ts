// hyperion-runtime — public API. Names mirror the Hyperion C API (see DESIGN.md §5).
export { HyperionError, ERROR_CODES, categoryOf } from './errors';
export type { HyperionErrorCode, HyperionErrorCategory, HyperionErrorDetails } from './errors';
export {
  configureLogging,
  setLogLevel,
  log,
  logContent,
  flushLogs,
  getLogStats,
  LOG_LEVELS,
  LOG_CATEGORIES,
} from './logging';
export type { LogLevel, LogCategory, LogFormat, LogRecord, LoggingOptions, RotationOptions, LogStats } from './logging';
export { version, nativeVersion, getCpuFeatures, enableSIMD, setErrorCallback, getLastError } from './system';
export type { CpuFeatures, Isa } from './system';
export { loadModel, Model } from './model';
export type { LoadModelOptions, ModelInfo, EvaluateOptions } from './model';
export type { ResourceLimits, EffectiveResourceLimits, ResourceUsage, UsageCallbackOptions } from './limits';
export { verifyModel, getModelInfo, inspectModel } from './model-files';
export type { VerifyReport, ModelFileInfo, InspectReport, FileProblem } from './model-files';
export { makeModel, modelMakerCatalog } from './maker';
export type { MakeModelOptions, MadeModel, MakerCatalog } from './maker';
export { loadTokenizer, Tokenizer } from './tokenizer';
export type { TokenizeOptions, DetokenizeOptions, TokenizerInfo } from './tokenizer';
export { Session, GenerationStream } from './session';
export type {
  SessionOptions,
  GenerationPiece,
  GenerationCandidate,
  GenerationResult,
  GenerationStats,
  StopReason,
} from './session';
export type { GenerationOptions } from './generation-options';
export type { ChatMessage, ChatTemplateOptions } from './chat';
export {
  initMemory,
  getMemoryConfig,
  enableStackTraces,
  getMemoryDebugInfo,
  checkMemoryLeaks,
  getAllocationTrace,
  getHeapStats,
  takeMemorySnapshot,
  compareMemorySnapshots,
  checkCorruption,
  MemorySnapshot,
  MEMORY_TAGS,
} from './memory';
export type {
  MemoryConfig,
  MemorySettings,
  GuardPageOptions,
  MemoryUsageEvent,
  MemoryTag,
  MemoryDebugInfo,
  TagUsage,
  LeakReport,
  LeakGroup,
  CheckLeaksOptions,
  StackFrame,
  AllocationTrace,
  HeapStats,
  SnapshotDiff,
  SnapshotSite,
  CorruptionReport,
  DamagedBlock,
  ModelLeakReport,
} from './memory';
export {
  initProfiler,
  startProfiling,
  stopProfiling,
  isProfiling,
  saveProfile,
  getProfile,
  getProfileTable,
  getHotspots,
  analyzeBottlenecks,
  getMachineLimits,
  parseProfileSummary,
  attachProfile,
} from './profiler';
export type {
  ProfilerConfig,
  ProfileFormat,
  SaveProfileOptions,
  SavedProfile,
  ProfileSummary,
  ProfileOp,
  ProfilePhase,
  ProfileThread,
  ProfileLayer,
  HardwareCounters,
  MachineLimits,
  OpVerdict,
  Hotspot,
  DecodeBandwidth,
  BottleneckReport,
  BottleneckModel,
  ZoneCategory,
  Phase,
} from './profiler';
