using Corral.Store.Sqlite;
using Corral.Store.Tests.Conformance;
using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Store.Tests.Sqlite;

/// <summary>The conformance suite against <see cref="SqliteStore"/>: a new database file for every store a test asks for.</summary>
public sealed class SqliteStoreConformanceTests : ClusterStoreConformanceTests, IDisposable
{
    private readonly TempDirectory _directory = new("corral-sqlite");

    protected override Task<IClusterStore> CreateStoreAsync() =>
        Task.FromResult<IClusterStore>(SqliteStore.Open(
            new SqliteStoreOptions { DataDirectory = _directory.Combine(Guid.NewGuid().ToString("N")) },
            TimeProvider.System,
            NullLogger<SqliteStore>.Instance));

    public void Dispose() => _directory.Dispose();
}
