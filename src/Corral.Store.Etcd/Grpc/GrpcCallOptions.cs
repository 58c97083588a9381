namespace Corral.Store.Etcd.Grpc;

/// <summary>Per-call settings: deadline and metadata.</summary>
/// <param name="Timeout">
/// The call's deadline, relative to its start; sent as <c>grpc-timeout</c> and enforced locally. A call past it throws
/// <see cref="GrpcException"/> with <see cref="GrpcStatusCode.DeadlineExceeded"/>. Null for none.
/// </param>
/// <param name="Metadata">Extra request headers (lower-case names), such as etcd's <c>token</c>; null for none.</param>
public readonly record struct GrpcCallOptions(TimeSpan? Timeout = null, IReadOnlyList<KeyValuePair<string, string>>? Metadata = null);
