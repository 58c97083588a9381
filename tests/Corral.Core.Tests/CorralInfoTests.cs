using Corral.Core;

namespace Corral.Core.Tests;

public class CorralInfoTests
{
    [Fact]
    public void Product_IsCorral() => Assert.Equal("Corral", CorralInfo.Product);
}
