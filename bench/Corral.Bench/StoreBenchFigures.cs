namespace Corral.Bench;

/// <summary>One backend's figures in the store benchmark; raw-etcd figures only for etcd set-ups; null when not measured.</summary>
internal sealed record StoreBenchFigures(
    string Backend,
    string Detail,
    double? Put1,
    double? Put32,
    double? Cas32,
    double? WatchP50Ms,
    double? WatchP99Ms,
    double? PutP99Ms,
    double? RawPut1 = null,
    double? RawPut32 = null)
{
    public double? Ratio1 => RawPut1 is > 0 ? Put1 / RawPut1 : null;

    public double? Ratio32 => RawPut32 is > 0 ? Put32 / RawPut32 : null;
}
