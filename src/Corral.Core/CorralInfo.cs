namespace Corral.Core;

/// <summary>Facts about this build of Corral that every component may report.</summary>
public static class CorralInfo
{
    /// <summary>The product name as shown to operators.</summary>
    public const string Product = "Corral";
}
