namespace Corral.Bench;

/// <summary>Corral's failover figures: the VIP's (as for keepalived) and the API's through the VIP, in seconds.</summary>
internal sealed record CorralFailoverFigures(FailoverFigures Vip, double ApiKillMedian, double ApiKillMax, int PlacementMoves);
