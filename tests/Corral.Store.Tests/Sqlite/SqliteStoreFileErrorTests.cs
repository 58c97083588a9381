using System.Diagnostics;
using Corral.Store.Sqlite;
using Corral.Testing;
using Microsoft.Data.Sqlite;
using static Corral.Store.Tests.Sqlite.SqliteStoreFixture;

namespace Corral.Store.Tests.Sqlite;

/// <summary>A database file that cannot be used gives an error that names the file and says what is wrong.</summary>
public sealed class SqliteStoreFileErrorTests : IDisposable
{
    private readonly TempDirectory _directory = new("corral-sqlite");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Open_SameFileTwiceInOneProcess_SecondFailsNamingTheFile()
    {
        var options = Options(_directory);
        await using var first = Open(options);
        await first.PutAsync("/a", Bytes("1"));

        var e = Assert.Throws<StoreCorruptException>(() => Open(options));
        Assert.Contains(options.DatabasePath, e.Message, StringComparison.Ordinal);
        Assert.Contains("already open", e.Message, StringComparison.Ordinal);
        // The first store is unharmed.
        Assert.Equal("1", (await first.GetAsync("/a"))!.ValueString);
        await first.PutAsync("/b", Bytes("2"));
    }

    [Fact]
    public async Task Open_LockFileHeldByAnotherProcess_FailsNamingTheFile()
    {
        var options = Options(_directory);
        await using (var store = Open(options))
        {
            await store.PutAsync("/a", Bytes("1"));
        }
        var lockPath = options.DatabasePath + ".lock";
        // --no-fork: flock execs sleep, so the one process that holds the lock is the one this test kills.
        using var holder = StartProcess("/usr/bin/flock", "--exclusive", "--no-fork", lockPath, "sleep", "60");
        try
        {
            // Wait until the other process holds the lock (flock -n fails while it does).
            await WaitForAsync(async () => await RunAsync("/usr/bin/flock", "--nonblock", lockPath, "true") != 0, "flock to take the lock file");
            var e = Assert.Throws<StoreCorruptException>(() => Open(options));
            Assert.Contains(options.DatabasePath, e.Message, StringComparison.Ordinal);
            Assert.Contains("already open", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            holder.Kill(entireProcessTree: true);
            await holder.WaitForExitAsync();
        }
        await WaitForAsync(async () => await RunAsync("/usr/bin/flock", "--nonblock", lockPath, "true") == 0, "the killed process to release the lock");
        await using var reopened = Open(options);
        Assert.Equal("1", (await reopened.GetAsync("/a"))!.ValueString);
    }

    [Fact]
    public async Task Open_DatabaseLockedByAnotherSqliteConnection_FailsNamingTheFile()
    {
        var options = Options(_directory);
        await using (var store = Open(options))
        {
            await store.PutAsync("/a", Bytes("1"));
        }
        using var other = new SqliteConnection($"Data Source={options.DatabasePath};Pooling=False");
        other.Open();
        using (var command = other.CreateCommand())
        {
            command.CommandText = "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; UPDATE meta SET value = value WHERE name = 'schema';";
            command.ExecuteNonQuery();
        }

        var e = Assert.Throws<StoreCorruptException>(() => Open(options));
        Assert.Contains(options.DatabasePath, e.Message, StringComparison.Ordinal);
        Assert.Contains("locked", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_ReadOnlyFile_FailsNamingTheFile()
    {
        var options = Options(_directory);
        await using (var store = Open(options))
        {
            await store.PutAsync("/a", Bytes("1"));
        }
        // Tests run as root, which ignores permission bits: the immutable attribute makes the file read-only even for root.
        Assert.True(await RunAsync("/usr/bin/chattr", "+i", options.DatabasePath) == 0, "chattr +i failed: the test needs chattr (e2fsprogs) and a file system with the immutable attribute");
        try
        {
            var e = Assert.Throws<StoreCorruptException>(() => Open(options));
            Assert.Contains(options.DatabasePath, e.Message, StringComparison.Ordinal);
            Assert.Contains("read-only", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            await RunAsync("/usr/bin/chattr", "-i", options.DatabasePath);
        }
        await using var reopened = Open(options);
        Assert.Equal("1", (await reopened.GetAsync("/a"))!.ValueString);
    }

    [Fact]
    public void Open_FileThatIsNotADatabase_FailsNamingTheFile()
    {
        var options = Options(_directory);
        File.WriteAllText(options.DatabasePath, "this is a text file, not a SQLite database, and it is long enough to have a header");
        var e = Assert.Throws<StoreCorruptException>(() => Open(options));
        Assert.Contains(options.DatabasePath, e.Message, StringComparison.Ordinal);
        Assert.Contains("corrupt", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_DatabaseWithDamagedPages_FailsNamingTheFile()
    {
        var options = Options(_directory);
        await using (var store = Open(options))
        {
            for (var i = 0; i < 200; i++)
            {
                await store.PutAsync($"/k/{i:D3}", new byte[2000]);
            }
        }
        // Scribble over the middle of the file (every page but the header page).
        var bytes = await File.ReadAllBytesAsync(options.DatabasePath);
        for (var i = 4096; i < bytes.Length - 4096; i += 7)
        {
            bytes[i] = 0x5A;
        }
        await File.WriteAllBytesAsync(options.DatabasePath, bytes);

        var e = Assert.Throws<StoreCorruptException>(() => Open(options));
        Assert.Contains(options.DatabasePath, e.Message, StringComparison.Ordinal);
        Assert.Contains("corrupt", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Closed_CallsAndWatchesEndWithObjectDisposedException()
    {
        var store = Open(Options(_directory));
        await store.PutAsync("/a", Bytes("1"));
        using var cts = new CancellationTokenSource(Patience);
        var receiving = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var watch = Task.Run(async () =>
        {
            await foreach (var batch in store.WatchAsync("/", 0, cts.Token))
            {
                receiving.TrySetResult();
            }
        });
        await WaitForAsync(async () => { await store.PutAsync("/tick", Bytes("t")); return receiving.Task.IsCompleted; }, "the watch to deliver");
        await store.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => watch);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.PutAsync("/b", Bytes("2")));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.GetAsync("/a"));
        await store.DisposeAsync();
    }

    private static Process StartProcess(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        return Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
    }

    private static async Task<int> RunAsync(string file, params string[] args)
    {
        Assert.True(File.Exists(file), $"{file} is missing: this test needs it");
        using var process = StartProcess(file, args);
        using var cts = new CancellationTokenSource(Patience);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return process.ExitCode;
    }
}
