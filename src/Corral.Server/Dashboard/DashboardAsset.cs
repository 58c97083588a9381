namespace Corral.Server.Dashboard;

/// <summary>One file of the dashboard, held in memory: its bytes, content type and strong ETag (a hash of the bytes).</summary>
internal sealed record DashboardAsset(string Path, byte[] Content, string ContentType, string ETag);
