using Corral.Server.Controllers;
using Corral.Store;

namespace Corral.Server.Tests.Controllers;

public class TxnBatcherTests
{
    private static readonly Compare Guard = Compare.LeaseOf("/leader", CompareOp.Equal, 7);

    [Fact]
    public void Build_ManyChanges_EveryTransactionWithinLimitsAndCarriesTheGuard()
    {
        var batcher = new TxnBatcher(Guard);
        for (var i = 0; i < 500; i++)
        {
            batcher.Add(
                [Compare.Missing($"/r/{i}"), Compare.ModRevision($"/node/{i % 7}", CompareOp.Equal, 3)],
                [new TxnOp.Put($"/r/{i}", new byte[] { 1 }), new TxnOp.Put($"/e/{i}", new byte[] { 2 })]);
        }

        var txns = batcher.Build();

        Assert.Equal(1000, txns.Sum(t => t.Success.Count));
        Assert.All(txns, t =>
        {
            Assert.True(t.Success.Count <= TxnBatcher.MaxOps);
            Assert.True(t.Compares.Count <= TxnBatcher.MaxOps);
            Assert.Equal(Guard, t.Compares[0]);
            Assert.Equal(t.Compares.Count, t.Compares.Select(c => c.Key).Distinct().Count());
            StoreLimits.ValidateTxn(t);
        });
        Assert.Equal(8, txns.Count);
    }

    [Fact]
    public void Build_ComparesFillFirst_SplitsOnCompares()
    {
        var batcher = new TxnBatcher(Guard);
        for (var i = 0; i < 100; i++)
        {
            batcher.Add([Compare.Missing($"/a/{i}"), Compare.Missing($"/b/{i}")], [new TxnOp.Put($"/a/{i}", new byte[] { 1 })]);
        }

        var txns = batcher.Build();

        Assert.All(txns, t => Assert.True(t.Compares.Count <= TxnBatcher.MaxOps));
        Assert.Equal(100, txns.Sum(t => t.Success.Count));
        Assert.Equal(2, txns.Count);
    }

    [Fact]
    public void Build_NothingAdded_NoTransaction() => Assert.Empty(new TxnBatcher(Guard).Build());
}
