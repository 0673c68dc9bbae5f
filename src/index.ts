/**
 * snakepit: a pool of long-lived Python worker processes behind one typed async API.
 *
 *   const pit = await Snakepit.start({ adapter: 'snakepit_bridge.adapters.showcase:ShowcaseAdapter' });
 *   await pit.execute('add', { a: 1, b: 2 });   // 3
 *   await pit.close();
 */
export { Snakepit } from './snakepit.js';
export type {
  ExecuteOptions,
  StreamOptions,
  ToolArgs,
  RefCallOptions,
  CallMethodOptions,
} from './snakepit.js';
export { PyRef } from './refs/py-ref.js';
export type {
  Sessions,
  SessionInfo,
  SessionOptions,
  SessionStoreStats,
  SessionEndReason,
} from './session/session-store.js';
export type {
  SnakepitConfig,
  PoolConfig,
  QueueConfig,
  PythonConfig,
  ResolvedPython,
  LibraryConfig,
  LibraryInstall,
  AffinityMode,
  SessionsConfig,
  HeartbeatConfig,
  RecycleConfig,
  RestartConfig,
  TransportKind,
  EndpointResolver,
  GrpcConfig,
  GrpcTlsConfig,
  SnakepitStyleConfig,
  ToolsConfig,
  TelemetryConfig,
  StartPolicy,
} from './config/config-types.js';
export type { CommandConfig, RuntimeKind } from './config/runtime-config.js';
export type { PoolHooks, ToolHooks, ArgsValidator } from './hooks/adapter-hooks.js';
/** What a tool of the Node.js worker runtime receives as its second argument (docs/WORKERS.md). */
export type { ToolContext as NodeToolContext } from './runtimes/node/tool-context.js';
export { dnsEndpoints } from './remote/remote-fleet.js';
export type { PoolStats, WorkerInfo } from './pool/pool-stats.js';
export type { DoctorReport, DoctorCheck, CheckStatus } from './doctor/doctor-types.js';
export type { ToolSpec, ParameterSpec, LibraryInfo } from './protocol/messages.js';
export { NDArray } from './transport/extended-values.js';
export { PyDict } from './transport/container-values.js';
export type { GracefulOption } from './config/graceful.js';
export type { NDArrayDType, NDArrayData } from './transport/extended-values.js';
export type {
  HostTools,
  HostToolContext,
  HostToolHandler,
  HostToolOptions,
  HostToolInfo,
  HostToolArgs,
  ParameterSchema,
  ArgsOf,
} from './tools/tool-registry.js';
export type { JsonSchema, JsonSchemaObject, JsonType } from './tools/json-schema.js';
export type { ZodLikeSchema } from './tools/zod-schema.js';
export { toLlmTools } from './tools/llm-export.js';
export type {
  LlmTool,
  LlmToolFormat,
  LlmExportOptions,
  OpenAiTool,
  AnthropicTool,
} from './tools/llm-export.js';
export type { Logger, LogLevel } from './util/logger.js';
export type {
  SnakepitEvents,
  SnakepitEventName,
  RecycleReason,
  LogStream,
  CallEventBase,
  CallFailureKind,
} from './telemetry/event-bus.js';
export { EVENT_NAMES, channelName } from './telemetry/event-bus.js';
export type { LatencySummary } from './telemetry/histogram.js';
export type { Dashboard, DashboardOptions } from './dashboard/dashboard.js';
export type {
  DashboardSnapshot,
  DashboardUpdate,
  PoolView,
  WorkerView,
  HistoryPoint,
  LatencyWindow,
  HistogramBar,
  SessionsView,
  SessionView,
  ErrorEntry,
  HostView,
} from './dashboard/dashboard-types.js';
export type { CallStats } from './telemetry/call-telemetry.js';
export type { PromRegistry } from './telemetry/prometheus.js';
export { METRICS_CONTENT_TYPE } from './telemetry/metrics.js';
export type { WorkerExitKind } from './errors/exit-kind.js';
export { resolvePython } from './python-env/interpreter.js';
export { PythonPackages } from './python-env/packages.js';
export type {
  PythonPackagesOptions,
  PackageStatus,
  CheckInstalledResult,
  EnsureResult,
} from './python-env/packages.js';
export type { Installer } from './python-env/install.js';
export { generateTypes } from './typegen/generate.js';
export type { GenerateTypesOptions, GenerateTypesResult, GeneratedFile } from './typegen/generate.js';
export { typedClient } from './typegen/client.js';
export type { TypedClientSpec, TypedCallOptions, TypedStreamOptions } from './typegen/client.js';
export type {
  PyArrayLike,
  PyNested,
  PyNumericTypedArray,
  PyBytesLike,
  PyComplex,
  PySeries,
  PyUnserializable,
  PyValue,
} from './typegen/value-types.js';
export * from './errors/errors.js';
export * from './errors/python-errors.js';
