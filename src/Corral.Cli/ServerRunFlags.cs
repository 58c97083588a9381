using System.CommandLine;
using System.Net;
using Corral.Core;
using Corral.Server;
using Microsoft.Extensions.Logging;

namespace Corral.Cli;

/// <summary>
/// How a server serves: the flags shared by <c>corral server run</c> and <c>corral server join</c> (which serves like
/// <c>server run</c> once it has joined): listen address and port, log and event retention, heartbeat grace, node certificate
/// validity, the virtual IP with its hooks, the HA timing and the log level (plus, for <c>run</c> only, the store override).
/// </summary>
/// <param name="includeStore">Whether <c>--store</c> and the <c>--etcd-*</c> connection flags are offered (not by <c>join</c>).</param>
internal sealed class ServerRunFlags(bool includeStore)
{
    private readonly Option<string> _listen = new("--listen") { Description = "Address to bind.", DefaultValueFactory = _ => "127.0.0.1" };
    private readonly Option<int?> _port = new("--port") { Description = $"HTTPS port [default: the port recorded in server.json by 'server init --port', else {ServerRunOptions.DefaultPort}]." };
    private readonly Option<string> _logMaxSize = new("--log-max-size") { Description = "Most replica log data the cluster keeps (oldest goes first), e.g. 64M.", DefaultValueFactory = _ => "64M" };
    private readonly Option<string> _logMaxAge = new("--log-max-age") { Description = "Replica log lines older than this are deleted, e.g. 7d.", DefaultValueFactory = _ => "7d" };
    private readonly Option<int> _eventsMaxCount = new("--events-max-count") { Description = "Most events the cluster keeps (oldest go first), 100 to 1000000.", DefaultValueFactory = _ => Corral.Server.Controllers.EventRetentionOptions.DefaultMaxCount };
    private readonly Option<string> _eventsMaxAge = new("--events-max-age") { Description = "Events older than this are deleted (1m to 365d), e.g. 7d.", DefaultValueFactory = _ => "7d" };
    private readonly Option<string> _heartbeatGrace = new("--heartbeat-grace") { Description = "Mark a node down after this long without a heartbeat (1s to 5m).", DefaultValueFactory = _ => "5s" };
    private readonly Option<string?> _certValidity = new("--node-cert-validity") { Description = "How long node certificates issued at join and renewal are valid (default 365d, at least 10s); agents renew after two thirds of it." };
    private readonly Option<string> _vip = new("--vip") { Description = "Virtual IP (CIDR, e.g. 10.0.0.100/24) this server holds while it is the leader." };
    private readonly Option<string> _vipInterface = new("--vip-interface") { Description = "Network interface that carries the virtual IP (e.g. eth0); required with --vip." };
    private readonly Option<string> _onLeader = new("--vip-on-leader") { Description = "Executable run when this server becomes leader and holds the VIP (env CORRAL_ROLE, CORRAL_VIP, CORRAL_REASON, ...)." };
    private readonly Option<string> _onFollower = new("--vip-on-follower") { Description = "Executable run when this server starts as or goes back to being a follower." };
    private readonly Option<string> _onFault = new("--vip-on-fault") { Description = "Executable run when this server lost leadership because the store was unreachable or the VIP could not be added." };
    private readonly Option<double> _hookTimeout = new("--vip-hook-timeout") { Description = "Seconds a notify hook may run before it is killed.", DefaultValueFactory = _ => 10 };
    private readonly ServerStoreOptions _store = new(includeStore);
    private readonly LogLevelOption _logLevel = new();

    /// <summary>The name of the port flag, for the "port in use" message.</summary>
    public string PortFlag => _port.Name;

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _listen, _port, _logMaxSize, _logMaxAge, _eventsMaxCount, _eventsMaxAge, _heartbeatGrace, _certValidity, _vip, _vipInterface, _onLeader, _onFollower, _onFault, _hookTimeout })
        {
            command.Options.Add(option);
        }
        _store.AddTo(command);
        _logLevel.AddTo(command);
    }

    /// <summary>The log level in force; call it after <see cref="Parse"/> returned options (which checked it).</summary>
    public LogLevel Level(ParseResult parse) =>
        _logLevel.TryGet(parse, out var level, out var error) ? level : throw new InvalidOperationException(error);

    /// <summary>The listen address, or null (with the reason in <paramref name="problems"/>) when it is not an IP address.</summary>
    public IPAddress? Listen(ParseResult parse, List<string> problems)
    {
        if (IPAddress.TryParse(parse.GetValue(_listen), out var address))
        {
            return address;
        }
        problems.Add($"--listen '{parse.GetValue(_listen)}' is not an IP address");
        return null;
    }

    /// <summary>
    /// How to serve <paramref name="dataDir"/>; every problem (each naming its flag) goes to <paramref name="problems"/>
    /// and then the result is null.
    /// </summary>
    public ServerRunOptions? Parse(ParseResult parse, string dataDir, List<string> problems)
    {
        var before = problems.Count;
        var address = Listen(parse, problems);
        var vipOptions = ParseVip(parse.GetValue(_vip), parse.GetValue(_vipInterface), parse.GetValue(_onLeader), parse.GetValue(_onFollower), parse.GetValue(_onFault), parse.GetValue(_hookTimeout), problems);
        var graceText = parse.GetValue(_heartbeatGrace)!;
        if (!Durations.TryParse(graceText, out var grace, out var graceError) || grace < TimeSpan.FromSeconds(1) || grace > TimeSpan.FromMinutes(5))
        {
            problems.Add($"--heartbeat-grace '{graceText}' must be a duration from 1s to 5m{(graceError.Length == 0 ? "" : ": " + graceError)}");
        }
        if (!ByteSizes.TryParse(parse.GetValue(_logMaxSize), out var maxBytes, out var sizeError))
        {
            problems.Add($"--log-max-size '{parse.GetValue(_logMaxSize)}': {sizeError}");
        }
        if (!Durations.TryParse(parse.GetValue(_logMaxAge), out var maxAge, out var ageError))
        {
            problems.Add($"--log-max-age '{parse.GetValue(_logMaxAge)}': {ageError}");
        }
        var defaults = new Corral.Server.Logs.LogRetentionOptions();
        var retention = defaults with { MaxBytes = sizeError.Length == 0 ? maxBytes : defaults.MaxBytes, MaxAge = ageError.Length == 0 ? maxAge : defaults.MaxAge };
        problems.AddRange(retention.Validate().Select(e => e.Replace("MaxBytes", "--log-max-size", StringComparison.Ordinal).Replace("MaxAge", "--log-max-age", StringComparison.Ordinal)));
        var eventDefaults = new Corral.Server.Controllers.EventRetentionOptions();
        if (!Durations.TryParse(parse.GetValue(_eventsMaxAge), out var eventsMaxAge, out var eventsAgeError))
        {
            problems.Add($"--events-max-age '{parse.GetValue(_eventsMaxAge)}': {eventsAgeError}");
        }
        var eventRetention = eventDefaults with { MaxCount = parse.GetValue(_eventsMaxCount), MaxAge = eventsAgeError.Length == 0 ? eventsMaxAge : eventDefaults.MaxAge };
        problems.AddRange(eventRetention.Validate().Select(e => e.Replace("MaxCount", "--events-max-count", StringComparison.Ordinal).Replace("MaxAge", "--events-max-age", StringComparison.Ordinal)));
        var validity = Corral.Server.Security.NodeCertificates.DefaultValidity;
        if (parse.GetValue(_certValidity) is { } validityText
            && (!Durations.TryParse(validityText, out validity, out _) || validity < Corral.Server.Security.NodeCertificates.MinValidity))
        {
            problems.Add($"--node-cert-validity must be a duration of at least 10s (e.g. 30d), got '{validityText}'");
        }
        if (!_logLevel.TryGet(parse, out _, out var levelError))
        {
            problems.Add(levelError);
        }
        StoreConfig? store = null;
        HaTiming? timing = null;
        try
        {
            store = _store.Store(parse);
            timing = _store.Timing(parse);
        }
        catch (ArgumentException e)
        {
            problems.Add(e.Message);
        }
        if (problems.Count > before || address is null)
        {
            return null;
        }
        ServerConfig? config = null;
        if (parse.GetValue(_port) is null)
        {
            try
            {
                config = ServerConfig.Load(dataDir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
            {
                // The server reports an unreadable server.json when it starts; the port falls back to the default here.
            }
        }
        var port = parse.GetValue(_port) ?? config?.Port ?? ServerRunOptions.DefaultPort;
        return new ServerRunOptions(dataDir, address, port)
        {
            LogRetention = retention,
            EventRetention = eventRetention,
            HeartbeatGrace = grace,
            NodeCertificateValidity = validity,
            Vip = vipOptions,
            Store = store,
            Timing = timing,
        };
    }

    /// <summary>The virtual IP options, or null without --vip; every problem goes to <paramref name="errors"/>.</summary>
    internal static Corral.Server.Vip.VipOptions? ParseVip(string? vip, string? vipInterface, string? onLeader, string? onFollower, string? onFault, double hookTimeoutSeconds, List<string> errors)
    {
        if (vip is null)
        {
            if (vipInterface is not null || onLeader is not null || onFollower is not null || onFault is not null)
            {
                errors.Add("--vip-interface and the --vip-on-* hooks need --vip");
            }
            return null;
        }
        if (Corral.Server.Vip.VipOptions.ParseCidr(vip, out var error) is not { } cidr)
        {
            errors.Add("--vip " + error);
            return null;
        }
        if (vipInterface is null)
        {
            errors.Add("--vip needs --vip-interface (the network interface that carries it, e.g. eth0)");
            return null;
        }
        if (!double.IsFinite(hookTimeoutSeconds) || hookTimeoutSeconds <= 0 || hookTimeoutSeconds > 300)
        {
            errors.Add($"--vip-hook-timeout {hookTimeoutSeconds} must be from 0.1 to 300 seconds");
            return null;
        }
        var before = errors.Count;
        var options = new Corral.Server.Vip.VipOptions
        {
            Address = cidr.Address,
            PrefixLength = cidr.PrefixLength,
            Interface = vipInterface,
            OnLeader = onLeader is null ? null : Path.GetFullPath(onLeader),
            OnFollower = onFollower is null ? null : Path.GetFullPath(onFollower),
            OnFault = onFault is null ? null : Path.GetFullPath(onFault),
            HookTimeout = TimeSpan.FromSeconds(hookTimeoutSeconds),
        };
        errors.AddRange(options.Validate());
        return errors.Count == before ? options : null;
    }
}
