using System.Diagnostics.Metrics;

namespace Corral.Server.Metrics;

/// <summary>
/// The server's event-driven instruments, one <see cref="Meter"/> per component (names are the Prometheus names:
/// base units, <c>_total</c> counters). Cluster-state gauges live in <see cref="CorralMetrics"/>.
/// </summary>
public static class Instrumentation
{
    /// <summary>Prefix of every Corral meter; the exporter listens to these.</summary>
    public const string MeterPrefix = "Corral.";

    public static readonly Meter Api = new("Corral.Api");

    public static readonly Meter Scheduler = new("Corral.Scheduler");

    public static readonly Meter Store = new("Corral.Store");

    /// <summary>API requests by route template, method and status code.</summary>
    public static readonly Counter<long> ApiRequests = Api.CreateCounter<long>("corral_api_requests_total", description: "API requests served, by route template, method and status code.");

    /// <summary>API request latency.</summary>
    public static readonly Histogram<double> ApiRequestDuration = Api.CreateHistogram<double>("corral_api_request_duration_seconds", "s", "API request latency, by route template, method and status code.");

    /// <summary>Placement decisions by outcome (placed, pending).</summary>
    public static readonly Counter<long> SchedulerPlacements = Scheduler.CreateCounter<long>("corral_scheduler_placements_total", description: "Placement decisions of the scheduler, by outcome (placed, pending).");

    /// <summary>Time of one reconcile plan (diff and placement).</summary>
    public static readonly Histogram<double> SchedulerDuration = Scheduler.CreateHistogram<double>("corral_scheduler_plan_duration_seconds", "s", "Time to plan one reconcile pass (diff and placement).");

    /// <summary>Store request latency by operation.</summary>
    public static readonly Histogram<double> StoreRequestDuration = Store.CreateHistogram<double>("corral_store_request_duration_seconds", "s", "Store request latency, by operation (get, range, put, delete, txn, lease, status, ...).");

    /// <summary>Store requests that failed, by operation.</summary>
    public static readonly Counter<long> StoreErrors = Store.CreateCounter<long>("corral_store_errors_total", description: "Store requests that failed, by operation.");
}
