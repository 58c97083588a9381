using Corral.Store.Sqlite;
using Corral.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Corral.Store.Tests.Sqlite;

public sealed class SqliteStoreOptionsTests
{
    [Fact]
    public void Validate_Defaults_RequireOnlyTheDataDirectory()
    {
        Assert.Equal(["DataDirectory is required"], new SqliteStoreOptions().Validate());
        Assert.Empty(new SqliteStoreOptions { DataDirectory = "/var/lib/corral" }.Validate());
        var defaults = new SqliteStoreOptions();
        Assert.Equal(SqliteSynchronousMode.Full, defaults.Synchronous);
        Assert.Equal("store.db", defaults.FileName);
    }

    [Fact]
    public void Validate_EveryBadField_IsReportedAtOnceByName()
    {
        var options = new SqliteStoreOptions
        {
            DataDirectory = "",
            FileName = "a/b.db",
            Synchronous = (SqliteSynchronousMode)7,
            BusyTimeout = TimeSpan.FromMilliseconds(1500),
            MaxWriteBatch = 0,
            WatchQueueCapacity = 1,
        };
        var errors = options.Validate();
        Assert.Equal(6, errors.Count);
        foreach (var field in new[] { "DataDirectory", "FileName", "Synchronous", "BusyTimeout", "MaxWriteBatch", "WatchQueueCapacity" })
        {
            Assert.Contains(errors, e => e.StartsWith(field, StringComparison.Ordinal));
        }
        var thrown = Assert.Throws<ArgumentException>(() => SqliteStoreFixture.Open(options));
        Assert.Contains("MaxWriteBatch", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddSqliteStore_RegistersOneStoreOnTheContainersClock()
    {
        using var directory = new TempDirectory("corral-sqlite");
        var time = new ManualTimeProvider();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddSqliteStore(new SqliteStoreOptions { DataDirectory = directory.Path });
        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<IClusterStore>();
        Assert.Same(store, provider.GetRequiredService<IClusterStore>());
        Assert.Equal("sqlite", store.Kind);
        var grant = await store.GrantLeaseAsync(TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(TimeSpan.FromSeconds(6), (await store.GetLeaseAsync(grant.Id))!.Remaining);
        Assert.Throws<ArgumentException>(() => new ServiceCollection().AddSqliteStore(new SqliteStoreOptions()));
    }
}
