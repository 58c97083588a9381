using System.Text;

namespace Corral.Agent.Runtime;

/// <summary>Expands <c>${NAME}</c> in task arguments from the task's environment (ports included).</summary>
public static class ArgumentExpander
{
    /// <summary>
    /// Replaces each <c>${NAME}</c> with its value; <c>$$</c> is a literal <c>$</c>. An unknown name or an unclosed
    /// <c>${</c> throws an <see cref="ArgumentException"/> naming it.
    /// </summary>
    public static string Expand(string text, IReadOnlyDictionary<string, string> variables)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(variables);
        if (!text.Contains('$', StringComparison.Ordinal))
        {
            return text;
        }
        var result = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c != '$' || i + 1 >= text.Length)
            {
                result.Append(c);
                continue;
            }
            if (text[i + 1] == '$')
            {
                result.Append('$');
                i++;
                continue;
            }
            if (text[i + 1] != '{')
            {
                result.Append(c);
                continue;
            }
            var close = text.IndexOf('}', i + 2);
            if (close < 0)
            {
                throw new ArgumentException($"unclosed '${{' in argument '{text}'");
            }
            var name = text[(i + 2)..close];
            if (!variables.TryGetValue(name, out var value))
            {
                throw new ArgumentException($"unknown variable ${{{name}}} in argument '{text}'");
            }
            result.Append(value);
            i = close;
        }
        return result.ToString();
    }
}
