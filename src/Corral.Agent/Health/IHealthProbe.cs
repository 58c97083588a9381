namespace Corral.Agent.Health;

/// <summary>One kind of health probe against one task.</summary>
public interface IHealthProbe
{
    /// <summary>
    /// Runs one probe. Failures of the probed thing are reported as an unhealthy <see cref="ProbeResult"/>, not thrown.
    /// On cancellation the probe releases what it started (connections, processes) and throws
    /// <see cref="OperationCanceledException"/>.
    /// </summary>
    Task<ProbeResult> ProbeAsync(CancellationToken cancellationToken);
}
