namespace Corral.Server.Tests.Controllers;

/// <summary>Every drain test again, planning from the watch-fed in-memory cache instead of store reads.</summary>
public sealed class CachedDrainTests : DrainTests
{
    protected override bool UseCache => true;
}
