using System.Text;
using Corral.Store;

namespace Corral.Store.Tests.Contract;

/// <summary>The snapshot file format on its own; saving and restoring through real stores is in the conformance suite.</summary>
public class StoreSnapshotFormatTests
{
    private const string Header = """{"format":"corral-snapshot","version":1,"kind":"sqlite","revision":7}""";

    [Fact]
    public async Task ReadAsync_EmptySnapshot_HasNoKeys()
    {
        var text = Header + "\n" + """{"end":true,"count":0,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}""" + "\n";
        var entries = await StoreSnapshot.ReadAsync(Stream(text));
        Assert.Empty(entries);
    }

    [Fact]
    public async Task ReadAsync_Truncated_SaysSoWithTheLine()
    {
        var text = Header + "\n" + """{"k":"/a","v":"AQI="}""" + "\n";
        var e = await Assert.ThrowsAsync<StoreException>(() => StoreSnapshot.ReadAsync(Stream(text)));
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
        Assert.Contains("line 3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_AlteredEntry_FailsTheHashCheck()
    {
        var text = Header + "\n" + """{"k":"/a","v":"AQI="}""" + "\n" + """{"end":true,"count":1,"sha256":"00"}""" + "\n";
        var e = await Assert.ThrowsAsync<StoreException>(() => StoreSnapshot.ReadAsync(Stream(text)));
        Assert.Contains("trailer says 1 keys with sha256 00", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_WrongFormat_IsRefused()
    {
        var e = await Assert.ThrowsAsync<StoreException>(() => StoreSnapshot.ReadAsync(Stream("""{"format":"tarball","version":1,"kind":"x","revision":1}""" + "\n")));
        Assert.Contains("line 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_NotJson_NamesTheLine()
    {
        var e = await Assert.ThrowsAsync<StoreException>(() => StoreSnapshot.ReadAsync(Stream(Header + "\nnot json\n")));
        Assert.Contains("line 2", e.Message, StringComparison.Ordinal);
    }

    private static MemoryStream Stream(string text) => new(Encoding.UTF8.GetBytes(text));
}
