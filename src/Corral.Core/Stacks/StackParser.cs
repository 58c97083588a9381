using System.Globalization;
using System.Text.RegularExpressions;
using Corral.Core.Services;
using Corral.Core.Tasks;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Corral.Core.Stacks;

/// <summary>
/// Parses and validates a stack file (reference: docs/stack-file.md). Every error is reported at once, each with
/// file, line, column and field; unknown fields are refused with the closest valid name suggested.
/// </summary>
public static partial class StackParser
{
    /// <summary>Largest <c>replicas</c> a service may ask for.</summary>
    public const int MaxReplicas = 1000;

    /// <summary>Longest stack file, in characters (4 MiB, the API's largest request body).</summary>
    public const int MaxFileChars = 4 * 1024 * 1024;

    /// <summary>Largest a stack file may become with every YAML alias expanded (characters of scalars, plus one per node).</summary>
    public const long MaxExpandedChars = 4 * 1024 * 1024;

    /// <summary>Deepest nesting of mappings and lists.</summary>
    public const int MaxDepth = 64;

    /// <summary>Parses <paramref name="text"/>; <paramref name="file"/> is only used in error locations.</summary>
    public static StackParseResult Parse(string text, string file)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(file);
        var reader = new Reader(file);
        var stack = reader.Read(text);
        return new StackParseResult(reader.Errors.Count == 0 ? stack : null, reader.Errors);
    }

    [GeneratedRegex("^[a-z][a-z0-9-]{0,62}$")]
    internal static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    internal static partial Regex EnvNamePattern();

    /// <summary>True for a valid stack or service name: lower-case letters, digits and '-', starting with a letter, at most 63.</summary>
    public static bool IsValidName(string? text) => text is not null && NamePattern().IsMatch(text);

    /// <summary>True when <paramref name="text"/> is a valid label name or value (the rule stack files use: letters, digits, '.', '_', '/', '-'; at most 63).</summary>
    public static bool IsValidLabel(string? text) => Names.IsValidLabel(text);

    private sealed partial class Reader(string file)
    {
        public List<StackError> Errors { get; } = [];

        public StackSpec? Read(string text)
        {
            if (text.Length > MaxFileChars)
            {
                Errors.Add(new StackError(file, 1, 1, "", $"the file is {text.Length} characters; a stack file may have at most {MaxFileChars} (4 MiB)"));
                return null;
            }
            // Bounded before anything is built: aliases could otherwise expand a small file into gigabytes, and deep
            // nesting would exhaust the stack of the recursive loader.
            if (!Prescan(text))
            {
                return null;
            }
            var yaml = new YamlStream();
            try
            {
                yaml.Load(new StringReader(text));
            }
            catch (YamlException e)
            {
                YamlError(e);
                return null;
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or OverflowException or IndexOutOfRangeException)
            {
                // The YAML library's scanner throws these for some unterminated constructs; they are the file's fault.
                Errors.Add(new StackError(file, 1, 1, "", "not valid YAML: " + e.Message));
                return null;
            }
            if (yaml.Documents.Count == 0)
            {
                Errors.Add(new StackError(file, 1, 1, "", "the file is empty; expected 'stack:' and 'services:'"));
                return null;
            }
            if (yaml.Documents.Count > 1)
            {
                var second = yaml.Documents[1].RootNode;
                Error(second, "", "a stack file holds one YAML document; found more than one");
            }
            if (yaml.Documents[0].RootNode is not YamlMappingNode root)
            {
                Error(yaml.Documents[0].RootNode, "", "expected a mapping with 'stack:' and 'services:'");
                return null;
            }

            string? name = null;
            var services = new List<ServiceSpec>();
            YamlMappingNode? servicesNode = null;
            Fields(root, "", new()
            {
                ["stack"] = (node, path) => name = Name(node, path, "stack"),
                ["services"] = (node, path) => servicesNode = Mapping(node, path),
            });
            if (name is null && !Errors.Any(e => e.Field == "stack"))
            {
                Error(root, "stack", "required: the stack's name");
            }
            if (servicesNode is null)
            {
                if (!Errors.Any(e => e.Field == "services"))
                {
                    Error(root, "services", "required: at least one service");
                }
                return null;
            }
            if (servicesNode.Children.Count == 0)
            {
                Error(servicesNode, "services", "required: at least one service");
            }
            foreach (var (keyNode, valueNode) in servicesNode.Children)
            {
                var path = "services." + KeyText(keyNode);
                var serviceName = Name(keyNode, path, "service");
                if (valueNode is not YamlMappingNode serviceNode)
                {
                    Error(valueNode, path, "expected a mapping of the service's fields");
                    continue;
                }
                var service = Service(serviceName ?? "", name ?? "", serviceNode, path);
                if (service is not null && serviceName is not null)
                {
                    services.Add(service);
                }
            }
            return name is null ? null : new StackSpec(name, services);
        }

        /// <summary>
        /// One pass over the YAML events: nesting at most <see cref="MaxDepth"/>, every alias names an anchor completed
        /// before it, and the document with every alias expanded is at most <see cref="MaxExpandedChars"/>. Stops at the
        /// first violation, so a bomb is refused after reading its anchors, in milliseconds.
        /// </summary>
        private bool Prescan(string text)
        {
            var parser = new Parser(new StringReader(text));
            var anchors = new Dictionary<string, long>(StringComparer.Ordinal);
            var open = new Stack<(string? Anchor, long StartedAt)>();
            var openAnchors = new HashSet<string>(StringComparer.Ordinal);
            long expanded = 0;
            var last = Mark.Empty;
            try
            {
                while (parser.MoveNext())
                {
                    var current = parser.Current!;
                    last = current.Start;
                    switch (current)
                    {
                        case NodeEvent { } node when current is MappingStart or SequenceStart:
                            if (open.Count >= MaxDepth)
                            {
                                return Refuse(current.Start, $"nested more than {MaxDepth} levels deep");
                            }
                            var name = node.Anchor.IsEmpty ? null : node.Anchor.Value;
                            open.Push((name, expanded));
                            if (name is not null)
                            {
                                openAnchors.Add(name);
                            }
                            expanded += 1;
                            break;
                        case MappingEnd or SequenceEnd when open.Count > 0:
                            var (anchor, startedAt) = open.Pop();
                            if (anchor is not null)
                            {
                                anchors[anchor] = expanded - startedAt;
                                openAnchors.Remove(anchor);
                            }
                            break;
                        case Scalar scalar:
                            var size = scalar.Value.Length + 1L;
                            expanded += size;
                            if (!scalar.Anchor.IsEmpty)
                            {
                                anchors[scalar.Anchor.Value] = size;
                            }
                            break;
                        case AnchorAlias alias:
                            if (openAnchors.Contains(alias.Value.Value))
                            {
                                return Refuse(current.Start, $"the alias *{alias.Value.Value} is inside the node it refers to");
                            }
                            if (!anchors.TryGetValue(alias.Value.Value, out var aliased))
                            {
                                return Refuse(current.Start, $"the alias *{alias.Value.Value} refers to no anchor defined before it");
                            }
                            expanded += aliased;
                            break;
                    }
                    if (expanded > MaxExpandedChars)
                    {
                        return Refuse(current.Start, $"the file is larger than {MaxExpandedChars} characters (4 MiB) with its aliases expanded; a stack file may expand to at most that");
                    }
                }
                return true;
            }
            catch (YamlException e)
            {
                YamlError(e);
                return false;
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or OverflowException or IndexOutOfRangeException)
            {
                // The YAML library's scanner throws these for some unterminated constructs (e.g. a flow list left open
                // before more keys); they are the file's fault, located at the last token read.
                return Refuse(last, $"not valid YAML after this point (is a '[', '{{' or quote left unclosed?): {e.Message}");
            }

            bool Refuse(Mark at, string message)
            {
                Errors.Add(new StackError(file, (int)at.Line, (int)at.Column, "", message));
                return false;
            }
        }

        private ServiceSpec? Service(string name, string stack, YamlMappingNode node, string path)
        {
            string? command = null;
            IReadOnlyList<string> args = [];
            var env = new SortedDictionary<string, string>(StringComparer.Ordinal);
            string? user = null;
            string? workingDir = null;
            int? replicas = null;
            YamlNode? replicasNode = null;
            var mode = ServiceMode.Replicated;
            YamlNode? modeNode = null;
            IReadOnlyList<string> ports = [];
            HealthCheckSpec? health = null;
            var restart = RestartPolicy.Default;
            var resources = ResourceLimits.None;
            var placement = PlacementSpec.Anywhere;
            var stopSignal = "SIGTERM";
            var stopTimeout = TimeSpan.FromSeconds(10);
            IReadOnlyList<TaskFile> files = [];
            var eviction = ServiceSpec.DefaultEvictionTimeout;
            TimeSpan? fenceAfter = null;
            YamlNode? fenceNode = null;
            YamlNode? evictionNode = null;

            Fields(node, path, new()
            {
                ["command"] = (n, p) => command = NonEmpty(n, p),
                ["args"] = (n, p) => args = ScalarList(n, p),
                ["env"] = (n, p) => EnvMap(n, p, env),
                ["user"] = (n, p) => user = NonEmpty(n, p),
                ["working_dir"] = (n, p) => workingDir = NonEmpty(n, p),
                ["replicas"] = (n, p) => { replicasNode = n; replicas = Int(n, p, 0, MaxReplicas); },
                ["mode"] = (n, p) => { modeNode = n; mode = Enum(n, p, ServiceMode.Replicated, ("replicated", ServiceMode.Replicated), ("global", ServiceMode.Global)); },
                ["ports"] = (n, p) => ports = Ports(n, p),
                ["health"] = (n, p) => health = Health(n, p),
                ["restart"] = (n, p) => restart = Restart(n, p),
                ["resources"] = (n, p) => resources = Resources(n, p),
                ["placement"] = (n, p) => placement = Placement(n, p),
                ["stop_signal"] = (n, p) => stopSignal = Signal(n, p),
                ["stop_timeout"] = (n, p) => stopTimeout = Duration(n, p, TimeSpan.Zero, TimeSpan.FromHours(1)) ?? stopTimeout,
                ["files"] = (n, p) => files = Files(n, p),
                ["eviction_timeout"] = (n, p) => { evictionNode = n; eviction = Duration(n, p, ServiceSpec.MinEvictionTimeout, ServiceSpec.MaxEvictionTimeout) ?? eviction; },
                ["fence_after"] = (n, p) => { fenceNode = n; fenceAfter = Duration(n, p, SingletonTiming.MinFenceAfter, ServiceSpec.MaxEvictionTimeout); },
            });

            if (command is null && !Errors.Any(e => e.Field == path + ".command"))
            {
                Error(node, path + ".command", "required: the program to run");
            }
            if (mode == ServiceMode.Global && replicasNode is not null)
            {
                Error(replicasNode, path + ".replicas", "not allowed with 'mode: global' (one replica per eligible node)");
            }
            if (modeNode is not null && mode == ServiceMode.Global && placement.MaxPerNode is not null)
            {
                Error(modeNode, path + ".placement.max_per_node", "not allowed with 'mode: global', which places exactly one per node");
            }
            var singleton = mode == ServiceMode.Replicated && (replicas ?? 1) == 1;
            if (fenceAfter is not null && fenceAfter >= eviction)
            {
                Error(fenceNode ?? node, path + ".fence_after",
                    $"must be less than eviction_timeout ({Durations.Format(eviction)}), so a cut-off singleton stops before its replacement starts");
            }
            else if (singleton && !Errors.Any(e => e.Field.StartsWith(path + ".", StringComparison.Ordinal))
                && SingletonTiming.Check(fenceAfter ?? SingletonTiming.DefaultFenceAfter(eviction, stopTimeout), stopTimeout, eviction, fenceAfter is not null) is { } overlap)
            {
                Error(fenceNode ?? evictionNode ?? node, path + (fenceNode is not null ? ".fence_after" : ".eviction_timeout"), overlap);
            }
            if (health is not null && health.Kind != HealthCheckKind.Exec && ports.Count == 0)
            {
                Error(node, path + ".health", $"an {health.Kind.ToString().ToLowerInvariant()} check needs a port: add 'ports: [http]'");
            }
            if (health?.Port is { } probePort && !ports.Contains(probePort, StringComparer.Ordinal))
            {
                Error(node, path + ".health.port", $"'{probePort}' is not one of the service's ports ({string.Join(", ", ports)})");
            }
            if (command is null)
            {
                return null;
            }

            var spec = new ServiceSpec
            {
                Name = name,
                Stack = stack,
                Mode = mode,
                Replicas = mode == ServiceMode.Global ? 0 : replicas ?? 1,
                Placement = placement,
                EvictionTimeout = eviction,
                FenceAfter = fenceAfter,
                Task = new TaskSpec
                {
                    Command = command,
                    Args = args,
                    Env = env,
                    User = user,
                    WorkingDirectory = workingDir,
                    Ports = ports,
                    Health = health,
                    Restart = restart,
                    Resources = resources,
                    StopSignal = stopSignal,
                    StopTimeout = stopTimeout,
                    Files = files,
                },
            };
            var stored = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(spec, CoreJson.Default.ServiceSpec).Length;
            if (stored > ServiceSpec.MaxStoredBytes)
            {
                // Name the largest part, which is what to move out of the stack file.
                var parts = files.Select((f, k) => (Field: $"{path}.files[{k}].content", Size: (long)System.Text.Encoding.UTF8.GetByteCount(f.Content)))
                    .Concat(env.Select(e => (Field: $"{path}.env.{e.Key}", Size: (long)System.Text.Encoding.UTF8.GetByteCount(e.Value))))
                    .Concat(args.Select((a, k) => (Field: $"{path}.args[{k}]", Size: (long)System.Text.Encoding.UTF8.GetByteCount(a))))
                    .OrderByDescending(p => p.Size).FirstOrDefault();
                Error(node, parts.Field ?? path, string.Create(CultureInfo.InvariantCulture, $"the service is {stored:N0} bytes as stored; a service may be at most 1 MiB ({ServiceSpec.MaxStoredBytes:N0} bytes)")
                    + (parts.Field is null ? "" : string.Create(CultureInfo.InvariantCulture, $" and this field alone is {parts.Size:N0} bytes: keep large content on the nodes, not in the stack file")));
                return null;
            }
            return spec;
        }

        private HealthCheckSpec? Health(YamlNode node, string path)
        {
            if (Mapping(node, path) is not { } map)
            {
                return null;
            }
            HealthCheckKind? kind = null;
            string? httpPath = null;
            string? port = null;
            IReadOnlyList<string> exec = [];
            var interval = TimeSpan.FromSeconds(2);
            var timeout = TimeSpan.FromSeconds(1);
            var retries = 3;
            var startPeriod = TimeSpan.Zero;
            var kinds = 0;
            Fields(map, path, new()
            {
                ["http"] = (n, p) => { kinds++; kind = HealthCheckKind.Http; httpPath = NonEmpty(n, p); if (httpPath is not null && !httpPath.StartsWith('/')) { Error(n, p, $"the path must start with '/': '{httpPath}'"); } },
                ["tcp"] = (n, p) => { kinds++; kind = HealthCheckKind.Tcp; var v = NonEmpty(n, p); if (v is not null && v != "true") { port = v; } },
                ["exec"] = (n, p) => { kinds++; kind = HealthCheckKind.Exec; exec = n is YamlScalarNode s ? [s.Value ?? ""] : ScalarList(n, p); if (exec.Count == 0) { Error(n, p, "the command must not be empty"); } },
                ["port"] = (n, p) => port = NonEmpty(n, p),
                ["interval"] = (n, p) => interval = Duration(n, p, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1)) ?? interval,
                ["timeout"] = (n, p) => timeout = Duration(n, p, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(10)) ?? timeout,
                ["retries"] = (n, p) => retries = Int(n, p, 1, 100) ?? retries,
                ["start_period"] = (n, p) => startPeriod = Duration(n, p, TimeSpan.Zero, TimeSpan.FromHours(1)) ?? startPeriod,
            });
            if (kinds != 1)
            {
                Error(map, path, kinds == 0 ? "give one of 'http: /path', 'tcp: true' or 'exec: [cmd, args]'" : "give only one of 'http', 'tcp' and 'exec'");
                return null;
            }
            if (timeout > interval)
            {
                Error(map, path + ".timeout", $"must not exceed the interval ({Durations.Format(interval)})");
            }
            return new HealthCheckSpec
            {
                Kind = kind!.Value,
                Path = httpPath,
                Port = port,
                Command = exec,
                Interval = interval,
                Timeout = timeout,
                Retries = retries,
                StartPeriod = startPeriod,
            };
        }

        private RestartPolicy Restart(YamlNode node, string path)
        {
            var policy = RestartPolicy.Default;
            if (Mapping(node, path) is not { } map)
            {
                return policy;
            }
            Fields(map, path, new()
            {
                ["policy"] = (n, p) => policy = policy with { Mode = Enum(n, p, RestartMode.Always, ("always", RestartMode.Always), ("on-failure", RestartMode.OnFailure), ("never", RestartMode.Never)) },
                ["max_attempts"] = (n, p) => policy = policy with { MaxAttempts = Int(n, p, 0, 10_000) ?? policy.MaxAttempts },
                ["window"] = (n, p) => policy = policy with { Window = Duration(n, p, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1)) ?? policy.Window },
                ["backoff"] = (n, p) => policy = policy with { Backoff = Duration(n, p, TimeSpan.Zero, TimeSpan.FromHours(1)) ?? policy.Backoff },
                ["max_backoff"] = (n, p) => policy = policy with { MaxBackoff = Duration(n, p, TimeSpan.Zero, TimeSpan.FromHours(1)) ?? policy.MaxBackoff },
            });
            if (policy.Backoff > policy.MaxBackoff)
            {
                Error(map, path + ".backoff", $"must not exceed max_backoff ({Durations.Format(policy.MaxBackoff)})");
            }
            return policy;
        }

        private ResourceLimits Resources(YamlNode node, string path)
        {
            if (Mapping(node, path) is not { } map)
            {
                return ResourceLimits.None;
            }
            double? cpu = null;
            long? memory = null;
            Fields(map, path, new()
            {
                ["cpu"] = (n, p) => cpu = Double(n, p, 0.01, 256),
                ["memory"] = (n, p) => memory = Size(n, p, 4L << 20, 1L << 40),
            });
            return new ResourceLimits(memory, cpu);
        }

        private PlacementSpec Placement(YamlNode node, string path)
        {
            if (Mapping(node, path) is not { } map)
            {
                return PlacementSpec.Anywhere;
            }
            string? pin = null;
            var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
            int? maxPerNode = null;
            Fields(map, path, new()
            {
                ["node"] = (n, p) => pin = NonEmpty(n, p),
                ["labels"] = (n, p) => LabelMap(n, p, labels),
                ["max_per_node"] = (n, p) => maxPerNode = Int(n, p, 1, MaxReplicas),
            });
            return new PlacementSpec { Node = pin, Labels = labels, MaxPerNode = maxPerNode };
        }

        private IReadOnlyList<string> Ports(YamlNode node, string path)
        {
            var names = ScalarList(node, path);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var items = (node as YamlSequenceNode)?.Children;
            for (var i = 0; i < names.Count; i++)
            {
                var at = items is null ? node : items[i];
                if (!NamePattern().IsMatch(names[i]))
                {
                    Error(at, $"{path}[{i}]", $"'{names[i]}' is not a valid port name: lower-case letters, digits and '-', starting with a letter");
                }
                else if (!seen.Add(names[i]))
                {
                    Error(at, $"{path}[{i}]", $"port '{names[i]}' is listed twice");
                }
            }
            return names;
        }

        private IReadOnlyList<TaskFile> Files(YamlNode node, string path)
        {
            if (node is not YamlSequenceNode seq)
            {
                Error(node, path, "expected a list of {path, content, mode}");
                return [];
            }
            var files = new List<TaskFile>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < seq.Children.Count; i++)
            {
                var at = $"{path}[{i}]";
                if (Mapping(seq.Children[i], at) is not { } map)
                {
                    continue;
                }
                string? filePath = null;
                string? content = null;
                var mode = 420;
                Fields(map, at, new()
                {
                    ["path"] = (n, p) => filePath = NonEmpty(n, p),
                    ["content"] = (n, p) => content = n is YamlScalarNode s ? s.Value ?? "" : Fail<string>(n, p, "expected text"),
                    ["mode"] = (n, p) => mode = FileMode(n, p) ?? mode,
                });
                if (filePath is null)
                {
                    if (!Errors.Any(e => e.Field == at + ".path"))
                    {
                        Error(map, at + ".path", "required: a path relative to the task directory");
                    }
                    continue;
                }
                if (filePath.StartsWith('/') || filePath.Split('/').Any(part => part == ".."))
                {
                    Error(map, at + ".path", $"'{filePath}' must be relative and stay inside the task directory (no leading '/', no '..')");
                    continue;
                }
                if (!seen.Add(filePath))
                {
                    Error(map, at + ".path", $"'{filePath}' is listed twice");
                }
                files.Add(new TaskFile(filePath, content ?? "", mode));
            }
            return files;
        }

        private int? FileMode(YamlNode node, string path)
        {
            if (node is YamlScalarNode { Value: { } text }
                && text.Length is >= 3 and <= 4
                && text.All(c => c is >= '0' and <= '7'))
            {
                return Convert.ToInt32(text, 8);
            }
            Error(node, path, $"expected an octal file mode such as 0644; got '{(node as YamlScalarNode)?.Value}'");
            return null;
        }

        private string Signal(YamlNode node, string path)
        {
            var text = NonEmpty(node, path);
            if (text is null)
            {
                return "SIGTERM";
            }
            if (!Signals.TryParse(text, out var number) || int.TryParse(text, out _))
            {
                Error(node, path, $"unknown signal '{text}'; use a name such as SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1");
                return "SIGTERM";
            }
            return Signals.Name(number);
        }

        private void EnvMap(YamlNode node, string path, SortedDictionary<string, string> env)
        {
            if (Mapping(node, path) is not { } map)
            {
                return;
            }
            foreach (var (k, v) in map.Children)
            {
                var key = KeyText(k);
                if (!EnvNamePattern().IsMatch(key))
                {
                    Error(k, $"{path}.{key}", "not a valid environment variable name (letters, digits, '_', not starting with a digit)");
                    continue;
                }
                if (v is not YamlScalarNode scalar)
                {
                    Error(v, $"{path}.{key}", "expected a text, number or boolean value");
                    continue;
                }
                if (NoNul(v, $"{path}.{key}", scalar.Value ?? ""))
                {
                    env[key] = scalar.Value ?? "";
                }
            }
        }

        private void LabelMap(YamlNode node, string path, SortedDictionary<string, string> labels)
        {
            if (Mapping(node, path) is not { } map)
            {
                return;
            }
            foreach (var (k, v) in map.Children)
            {
                var key = KeyText(k);
                if (!Names.IsValidLabel(key))
                {
                    Error(k, $"{path}.{key}", "not a valid label name (letters, digits, '.', '_', '/', '-'; at most 63)");
                    continue;
                }
                if (v is not YamlScalarNode { Value: { } value } || !Names.IsValidLabel(value))
                {
                    Error(v, $"{path}.{key}", "expected a label value (letters, digits, '.', '_', '/', '-'; at most 63)");
                    continue;
                }
                labels[key] = value;
            }
        }

        private delegate void FieldHandler(YamlNode value, string path);

        private void Fields(YamlMappingNode map, string path, Dictionary<string, FieldHandler> handlers)
        {
            foreach (var (keyNode, valueNode) in map.Children)
            {
                var key = KeyText(keyNode);
                var fieldPath = path.Length == 0 ? key : path + "." + key;
                if (handlers.TryGetValue(key, out var handler))
                {
                    handler(valueNode, fieldPath);
                    continue;
                }
                var suggestion = Suggest(key, handlers.Keys);
                Error(keyNode, fieldPath, suggestion is null
                    ? $"unknown field '{key}'; valid fields: {string.Join(", ", handlers.Keys)}"
                    : $"unknown field '{key}' — did you mean '{suggestion}'?");
            }
        }

        private YamlMappingNode? Mapping(YamlNode node, string path)
        {
            if (node is YamlMappingNode map)
            {
                return map;
            }
            Error(node, path, "expected a mapping (key: value lines)");
            return null;
        }

        private string? Name(YamlNode node, string path, string what)
        {
            var text = node is YamlScalarNode s ? s.Value : null;
            if (text is null || !NamePattern().IsMatch(text))
            {
                Error(node, path, $"'{text}' is not a valid {what} name: lower-case letters, digits and '-', starting with a letter, at most 63");
                return null;
            }
            return text;
        }

        private string? NonEmpty(YamlNode node, string path)
        {
            if (node is YamlScalarNode { Value: { Length: > 0 } value } && !IsNull(node))
            {
                if (Names.CheckNoControl(value) is { } control)
                {
                    Error(node, path, "must not contain control characters: it " + control);
                    return null;
                }
                return value;
            }
            Error(node, path, "expected a non-empty text value");
            return null;
        }

        /// <summary>A NUL cannot reach a process (execve ends strings at it): refused in arguments and environment values.</summary>
        private bool NoNul(YamlNode node, string path, string value)
        {
            var at = value.IndexOf('\0', StringComparison.Ordinal);
            if (at < 0)
            {
                return true;
            }
            Error(node, path, $"must not contain a NUL character (found at character {at + 1}); a process's arguments and environment end at NUL");
            return false;
        }

        private IReadOnlyList<string> ScalarList(YamlNode node, string path)
        {
            if (node is not YamlSequenceNode seq)
            {
                Error(node, path, "expected a list, e.g. [a, b]");
                return [];
            }
            var items = new List<string>();
            for (var i = 0; i < seq.Children.Count; i++)
            {
                if (seq.Children[i] is YamlScalarNode { Value: { } v })
                {
                    if (NoNul(seq.Children[i], $"{path}[{i}]", v))
                    {
                        items.Add(v);
                    }
                }
                else
                {
                    Error(seq.Children[i], $"{path}[{i}]", "expected a text, number or boolean value");
                }
            }
            return items;
        }

        private int? Int(YamlNode node, string path, int min, int max)
        {
            if (node is YamlScalarNode { Value: { } text } && int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                if (value < min || value > max)
                {
                    Error(node, path, $"{value} is out of range; allowed {min}–{max}");
                    return null;
                }
                return value;
            }
            Error(node, path, $"expected a whole number ({min}–{max}); got '{(node as YamlScalarNode)?.Value}'");
            return null;
        }

        private double? Double(YamlNode node, string path, double min, double max)
        {
            if (node is YamlScalarNode { Value: { } text } && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value))
            {
                if (value < min || value > max)
                {
                    Error(node, path, $"{text} is out of range; allowed {min.ToString(CultureInfo.InvariantCulture)}–{max.ToString(CultureInfo.InvariantCulture)}");
                    return null;
                }
                return value;
            }
            Error(node, path, $"expected a number; got '{(node as YamlScalarNode)?.Value}'");
            return null;
        }

        private TimeSpan? Duration(YamlNode node, string path, TimeSpan min, TimeSpan max)
        {
            var text = (node as YamlScalarNode)?.Value;
            if (!Durations.TryParse(text, out var value, out var error))
            {
                Error(node, path, error);
                return null;
            }
            if (value < min || value > max)
            {
                Error(node, path, $"{text} is out of range; allowed {Durations.Format(min)}–{Durations.Format(max)}");
                return null;
            }
            return value;
        }

        private long? Size(YamlNode node, string path, long min, long max)
        {
            var text = (node as YamlScalarNode)?.Value;
            if (!ByteSizes.TryParse(text, out var value, out var error))
            {
                Error(node, path, error);
                return null;
            }
            if (value < min || value > max)
            {
                Error(node, path, $"{text} is out of range; allowed {ByteSizes.Format(min)}–{ByteSizes.Format(max)}");
                return null;
            }
            return value;
        }

        private T Enum<T>(YamlNode node, string path, T fallback, params (string Name, T Value)[] values)
        {
            var text = (node as YamlScalarNode)?.Value ?? "";
            foreach (var (name, value) in values)
            {
                if (string.Equals(name, text, StringComparison.Ordinal))
                {
                    return value;
                }
            }
            var suggestion = Suggest(text, values.Select(v => v.Name));
            Error(node, path, $"'{text}' is not one of {string.Join(", ", values.Select(v => v.Name))}" + (suggestion is null ? "" : $" — did you mean '{suggestion}'?"));
            return fallback;
        }

        private T Fail<T>(YamlNode node, string path, string message)
        {
            Error(node, path, message);
            return default!;
        }

        private void Error(YamlNode node, string field, string message) =>
            Errors.Add(new StackError(file, (int)node.Start.Line, (int)node.Start.Column, field, message));

        private static bool IsNull(YamlNode node) =>
            node is YamlScalarNode { Style: ScalarStyle.Plain, Value: "" or "~" or "null" or "Null" or "NULL" };

        private static string KeyText(YamlNode key) => (key as YamlScalarNode)?.Value ?? key.ToString();

        private void YamlError(YamlException e) =>
            Errors.Add(new StackError(file, (int)e.Start.Line, (int)e.Start.Column, "", "not valid YAML: " + StripLocation(e.InnerException?.Message ?? e.Message)));

        private static string StripLocation(string message)
        {
            var i = message.IndexOf("): ", StringComparison.Ordinal);
            return i >= 0 && message.StartsWith('(') ? message[(i + 3)..] : message;
        }
    }

    /// <summary>The closest of <paramref name="candidates"/> to <paramref name="input"/>, or null when none is close.</summary>
    internal static string? Suggest(string input, IEnumerable<string> candidates) => NearestName.Find(input, candidates);
}
