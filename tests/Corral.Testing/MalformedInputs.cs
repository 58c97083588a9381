using System.Text;
using System.Text.Json.Nodes;
using CsCheck;

namespace Corral.Testing;

/// <summary>
/// Generators of broken input for the corpus tests of issue 12: stack files mutated at the YAML level, and request
/// bodies mutated at the JSON level with a last mutation that certainly makes them invalid for their route.
/// </summary>
public static class MalformedInputs
{
    /// <summary>Valid stack files to mutate: flow and block styles, anchors, quoting, block scalars, files, health.</summary>
    public static readonly string[] StackSeeds =
    [
        "stack: shop\nservices:\n  web:\n    command: corral\n    args: [demo-web, --port, \"${PORT}\"]\n    replicas: 3\n    ports: [http]\n    health: { http: /health, interval: 2s, timeout: 1s }\n    restart: { policy: always, max_attempts: 5, window: 5m }\n    env: { LOG_LEVEL: info, WORKERS: 4 }\n",
        "stack: s\nservices:\n  locker:\n    command: /opt/app/locker\n    replicas: 1\n    placement: { node: point-b, labels: { zone: a } }\n    fence_after: 10s\n    eviction_timeout: 30s\n    stop_signal: SIGINT\n    stop_timeout: 15s\n    files:\n      - { path: conf/locker.ini, content: \"a=1\", mode: \"0600\" }\n",
        "stack: s\nservices:\n  api:\n    command: python3\n    args:\n      - -m\n      - http.server\n    env: &env\n      A: \"1\"\n      B: 'two'\n    user: nobody\n    working_dir: /tmp\n  worker:\n    command: sleep\n    args: [\"3600\"]\n    env: *env\n    mode: global\n    resources: { cpu: 0.5, memory: 256M }\n",
        "stack: s\nservices:\n  conf:\n    command: sh\n    args: [-c, \"cat conf.txt; sleep 1000\"]\n    files:\n      - path: conf.txt\n        content: |\n          line one\n          line: two\n        mode: \"0644\"\n    health:\n      exec: [test, -f, conf.txt]\n      retries: 3\n",
    ];

    private static readonly string[] YamlTokens =
    [
        "[", "]", "{", "}", ":", ": ", ",", "&a ", "*a", "*b", "&b [x, *a]", "!", "!!binary ", "!!int ", "|", ">", "'", "\"", "- ", "#", "\n", "\n  ", "\t",
        "\0", "\\", "%YAML 1.2\n", "---\n", "...\n", "? ", "<<: *a", "\u0085", "\uFEFF", "\u2028", "\ud800", "99999999999999999999", "1e400", "-1", "0x10",
        "~", "null", "0644", "5m", "-5s", "${PORT}", "\"\\0\"", "\"\\x01\"", "\"\\u0000\"", "replicas: 2\n", "  web:\n", "services:\n", "stack: ", "[[[[[[[[", "]]]]",
        "{a: {b: {c: [", "\r\n", "\r",
    ];

    /// <summary>A stack file with one to four YAML-level mutations (it may still be valid; callers decide).</summary>
    public static readonly Gen<string> StackFile =
        Gen.Select(Gen.OneOf(StackSeeds), Gen.Int[1, 4], Gen.Int, (seed, count, random) => Mutate(seed, count, new Random(random)));

    private static string Mutate(string text, int count, Random random)
    {
        var s = new StringBuilder(text);
        for (var i = 0; i < count && s.Length > 0; i++)
        {
            var at = random.Next(s.Length + 1);
            switch (random.Next(7))
            {
                case 0:
                case 1:
                    s.Insert(at, YamlTokens[random.Next(YamlTokens.Length)]);
                    break;
                case 2:
                    s.Remove(Math.Min(at, s.Length - 1), Math.Min(random.Next(1, 12), s.Length - Math.Min(at, s.Length - 1)));
                    break;
                case 3:
                    s.Length = at;
                    break;
                case 4:
                    var lines = s.ToString().Split('\n').ToList();
                    var line = random.Next(lines.Count);
                    lines.Insert(line, lines[line]);
                    s.Clear().AppendJoin('\n', lines);
                    break;
                case 5:
                    var indented = s.ToString().Split('\n').ToList();
                    var which = random.Next(indented.Count);
                    indented[which] = random.Next(2) == 0 ? " " + indented[which] : indented[which].TrimStart();
                    s.Clear().AppendJoin('\n', indented);
                    break;
                default:
                    if (at < s.Length)
                    {
                        s[at] = YamlTokens[random.Next(YamlTokens.Length)][0];
                    }
                    break;
            }
        }
        return s.ToString();
    }

    /// <summary>
    /// A JSON body for a route whose valid form is <paramref name="valid"/> (an object) and whose required members are
    /// <paramref name="required"/>: zero to two random mutations, then one that makes it invalid for certain (an unknown
    /// member, a required one missing or of the wrong kind, a member given twice, or the text cut short or garbled).
    /// </summary>
    public static Gen<string> Body(string valid, params string[] required) =>
        Gen.Select(Gen.Int[0, 2], Gen.Int, (count, seed) => BreakBody(valid, required, count, new Random(seed)));

    private static readonly Func<Random, JsonNode?>[] Values =
    [
        _ => null,
        _ => JsonValue.Create(""),
        r => JsonValue.Create(new string('x', r.Next(1, 5000))),
        _ => JsonValue.Create("\0\u0001\n../x"),
        _ => JsonValue.Create(-1),
        _ => JsonValue.Create(long.MaxValue),
        _ => JsonValue.Create(1e300),
        _ => JsonValue.Create(true),
        _ => new JsonArray(1, "a", null),
        _ => new JsonObject { ["a"] = new JsonObject { ["b"] = 1 } },
        _ => JsonValue.Create("9999999999999999999999"),
        _ => JsonValue.Create("30s"),
        _ => JsonValue.Create("ADMIN"),
    ];

    private static string BreakBody(string valid, string[] required, int count, Random random)
    {
        var root = JsonNode.Parse(valid)!.AsObject();
        for (var i = 0; i < count; i++)
        {
            var names = root.Select(p => p.Key).ToList();
            if (names.Count > 0 && random.Next(2) == 0)
            {
                root[names[random.Next(names.Count)]] = Values[random.Next(Values.Length)](random);
            }
            else if (names.Count > 0)
            {
                var name = names[random.Next(names.Count)];
                var value = root[name]?.DeepClone();
                root.Remove(name);
                root[random.Next(2) == 0 ? name.ToUpperInvariant() : name] = value;
            }
        }
        var members = root.Select(p => p.Key).ToList();
        switch (random.Next(required.Length > 0 ? 7 : 5))
        {
            case 0:
                root["x_" + random.Next(1000)] = Values[random.Next(Values.Length)](random);
                return root.ToJsonString();
            case 1:
                var text = root.ToJsonString();
                return text[..random.Next(0, text.Length - 1)];
            case 2:
                var garbled = new StringBuilder(root.ToJsonString());
                garbled.Insert(random.Next(1, garbled.Length), "\"}]{[,:"[random.Next(7)]);
                garbled.Insert(0, "\uFEFFx"[random.Next(2)]);
                return garbled.ToString() + "x";
            case 3:
                // The same member twice.
                var doubled = root.ToJsonString();
                var name = members.Count > 0 ? members[random.Next(members.Count)] : "replicas";
                return doubled.Length > 2 ? $"{{\"{name}\": 1, {doubled[1..]}" : $"{{\"{name}\": 1, \"{name}\": 2}}";
            case 4:
                return new[] { "null", "[]", "\"text\"", "1", "[" + root.ToJsonString() + "]", new string('[', 10_000) }[random.Next(6)];
            case 5:
                root.Remove(required[random.Next(required.Length)]);
                return root.ToJsonString();
            default:
                // A JSON kind the member cannot have: an object where the valid body has a list, a list otherwise.
                var member = required[random.Next(required.Length)];
                var kind = JsonNode.Parse(valid)![member]?.GetValueKind();
                root[member] = kind == System.Text.Json.JsonValueKind.Array ? new JsonObject { ["x"] = 1 } : new JsonArray(1);
                return root.ToJsonString();
        }
    }
}
