using Corral.Store;
using Corral.Store.Sqlite;
using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Server.Tests.State;

public sealed class SqliteEventLogTests : EventLogTestsBase, IDisposable
{
    private readonly TempDirectory _dir = new("corral-eventlog");

    public void Dispose() => _dir.Dispose();

    protected override Task<IClusterStore> CreateStoreAsync() =>
        Task.FromResult<IClusterStore>(SqliteStore.Open(new SqliteStoreOptions { DataDirectory = _dir.Combine("store") }, TimeProvider.System, NullLogger<SqliteStore>.Instance));
}
