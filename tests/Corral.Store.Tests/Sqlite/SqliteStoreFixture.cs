using System.Diagnostics;
using Corral.Store.Sqlite;
using Corral.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Store.Tests.Sqlite;

/// <summary>Helpers shared by the SQLite-only tests: a temp data directory and bounded waits.</summary>
internal static class SqliteStoreFixture
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static SqliteStoreOptions Options(TempDirectory directory) => new() { DataDirectory = directory.Path, BusyTimeout = TimeSpan.FromSeconds(1) };

    public static SqliteStore Open(SqliteStoreOptions options, TimeProvider? time = null) =>
        SqliteStore.Open(options, time ?? TimeProvider.System, NullLogger<SqliteStore>.Instance);

    public static byte[] Bytes(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    public static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(Patience.TotalSeconds * Stopwatch.Frequency);
        while (!await condition())
        {
            Assert.True(Stopwatch.GetTimestamp() < deadline, $"timed out after {Patience} waiting for {what}");
            await Task.Delay(10);
        }
    }
}
