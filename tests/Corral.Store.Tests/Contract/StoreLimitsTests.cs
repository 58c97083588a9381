using Corral.Store;

namespace Corral.Store.Tests.Contract;

public class StoreLimitsTests
{
    [Fact]
    public void ValidateKey_Empty_NamesTheProblem()
    {
        var e = Assert.Throws<StoreLimitException>(() => StoreLimits.ValidateKey(""));
        Assert.Contains("must not be empty", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateKey_OverLimit_NamesTheLimit()
    {
        var e = Assert.Throws<StoreLimitException>(() => StoreLimits.ValidateKey("/" + new string('k', 1536)));
        Assert.Contains("1537 bytes", e.Message, StringComparison.Ordinal);
        Assert.Contains("1536 bytes (1.5 KiB)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateKey_AtLimitCountsUtf8Bytes()
    {
        StoreLimits.ValidateKey(new string('k', 1536));
        // 'é' is two bytes in UTF-8: 769 of them are 1538 bytes although only 769 characters.
        Assert.Throws<StoreLimitException>(() => StoreLimits.ValidateKey(new string('é', 769)));
    }

    [Fact]
    public void ValidateKey_Nul_IsRefused() =>
        Assert.Throws<StoreLimitException>(() => StoreLimits.ValidateKey("/a\0b"));

    [Fact]
    public void ValidateValue_OverOneMiB_NamesTheLimit()
    {
        StoreLimits.ValidateValue(new byte[StoreLimits.MaxValueBytes]);
        var e = Assert.Throws<StoreLimitException>(() => StoreLimits.ValidateValue(new byte[StoreLimits.MaxValueBytes + 1]));
        Assert.Contains("1 MiB", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void ValidateTtl_NotPositive_IsRefused(int seconds)
    {
        var e = Assert.Throws<StoreLimitException>(() => StoreLimits.ValidateTtl(TimeSpan.FromSeconds(seconds)));
        Assert.Contains("must be positive", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateTtl_Fraction_RoundsUpToWholeSeconds() =>
        Assert.Equal(2, StoreLimits.ValidateTtl(TimeSpan.FromMilliseconds(1100)));

    [Fact]
    public void ValidateTxn_SameKeyTwiceInABranch_IsRefused()
    {
        var txn = Txn.If().Then(new TxnOp.Put("/a", "1"u8.ToArray()), new TxnOp.Delete("/a"));
        var e = Assert.Throws<StoreLimitException>(() => StoreLimits.ValidateTxn(txn));
        Assert.Contains("txn.success[1]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateTxn_PutUnderDeletedPrefix_IsRefused()
    {
        var txn = Txn.If().Then(new TxnOp.DeletePrefix("/a/"), new TxnOp.Put("/a/b", "1"u8.ToArray()));
        Assert.Throws<StoreLimitException>(() => StoreLimits.ValidateTxn(txn));
    }

    [Fact]
    public void ValidateTxn_BadKeyInFailureBranch_NamesItsPlace()
    {
        var txn = Txn.If(Compare.Exists("/a")).Else(new TxnOp.Put("", "1"u8.ToArray()));
        var e = Assert.Throws<StoreLimitException>(() => StoreLimits.ValidateTxn(txn));
        Assert.Equal("txn.failure[0].key", e.ParamName);
    }

    [Fact]
    public void ValidateTxn_SameKeyInBothBranches_IsAllowed() =>
        StoreLimits.ValidateTxn(Txn.If(Compare.Missing("/a")).Then(new TxnOp.Put("/a", "1"u8.ToArray())).Else(new TxnOp.Put("/a", "2"u8.ToArray())));
}
