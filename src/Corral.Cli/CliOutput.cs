using System.CommandLine;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Corral.Client;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Corral.Cli;

/// <summary>
/// Where a verb writes: <see cref="Console"/> for tables and messages on standard output (plain text, no colour or
/// ANSI codes when output is redirected or NO_COLOR is set), <see cref="Error"/> for problems, and JSON for
/// <c>-o json</c>.
/// </summary>
internal sealed class CliOutput
{
    /// <summary>Width tables are laid out to when output is not a terminal, so that lines are not wrapped for scripts.</summary>
    private const int RedirectedWidth = 512;

    private CliOutput(TextWriter output, TextWriter error, OutputFormat format)
    {
        Out = output;
        Error = error;
        Format = format;
        IsTerminal = ReferenceEquals(output, System.Console.Out) && !System.Console.IsOutputRedirected;
        Console = CreateConsole(output, IsTerminal);
    }

    public TextWriter Out { get; }

    public TextWriter Error { get; }

    public OutputFormat Format { get; }

    public bool Json => Format == OutputFormat.Json;

    /// <summary>True when standard output is a terminal (not redirected, not a test's writer).</summary>
    public bool IsTerminal { get; }

    public IAnsiConsole Console { get; }

    public static CliOutput For(ParseResult parse, OutputFormat format)
    {
        var configuration = parse.InvocationConfiguration;
        return new CliOutput(configuration.Output, configuration.Error, format);
    }

    /// <summary>Writes <paramref name="value"/> as indented JSON, in the API's shape (snake_case, string enums).</summary>
    public void WriteJson<T>(T value, JsonTypeInfo<T> type)
    {
        var compact = JsonSerializer.SerializeToUtf8Bytes(value, type);
        using var document = JsonDocument.Parse(compact);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            document.WriteTo(writer);
        }
        Out.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    /// <summary>Writes <paramref name="value"/> as one line of compact JSON (for streams such as <c>events -f</c>).</summary>
    public void WriteJsonLine<T>(T value, JsonTypeInfo<T> type)
    {
        Out.WriteLine(JsonSerializer.Serialize(value, type));
        Out.Flush();
    }

    public void Line(string text)
    {
        Out.WriteLine(text);
        Out.Flush();
    }

    /// <summary>A kubectl-style table: header row, no borders, columns padded.</summary>
    public static Table Table(params string[] headers)
    {
        var table = new Table().Border(TableBorder.None).ShowHeaders();
        foreach (var header in headers)
        {
            table.AddColumn(new TableColumn(new Text(header, new Style(decoration: Decoration.Bold))) { Padding = new Padding(0, 0, 2, 0), NoWrap = false });
        }
        return table;
    }

    /// <summary>Adds a row of plain text cells (no markup is interpreted).</summary>
    public static void Row(Table table, params string?[] cells) =>
        table.AddRow(cells.Select(c => (IRenderable)new Text(c ?? "")).ToArray());

    /// <summary>A two-column key/value grid for <c>show</c> verbs.</summary>
    public static Grid Details(IEnumerable<(string Key, string? Value)> rows)
    {
        var grid = new Grid();
        grid.AddColumn(new GridColumn().PadRight(2));
        grid.AddColumn(new GridColumn());
        foreach (var (key, value) in rows)
        {
            grid.AddRow(new Text(key, new Style(decoration: Decoration.Bold)), new Text(value ?? ""));
        }
        return grid;
    }

    /// <summary>
    /// Renders to standard output; when that is not a terminal, as plain text without trailing blanks (tables pad
    /// their cells), so that scripts can split lines on whitespace.
    /// </summary>
    public void Write(IRenderable renderable)
    {
        if (IsTerminal)
        {
            Console.Write(renderable);
            return;
        }
        using var buffer = new StringWriter();
        CreateConsole(buffer, terminal: false).Write(renderable);
        var lines = buffer.ToString().Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (i == lines.Length - 1 && lines[i].Length == 0)
            {
                break;
            }
            Out.Write(lines[i].TrimEnd());
            Out.Write('\n');
        }
        Out.Flush();
    }

    private static IAnsiConsole CreateConsole(TextWriter output, bool terminal)
    {
        var ansi = terminal && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = ansi ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = ansi ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = ansi ? InteractionSupport.Detect : InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        if (!terminal)
        {
            console.Profile.Width = RedirectedWidth;
        }
        return console;
    }

    public void ErrorLine(string text)
    {
        Error.WriteLine(text);
        Error.Flush();
    }

    /// <summary>Prints an API problem: every located field error as <c>file:line:col: field: message</c>, then the summary.</summary>
    public void Problem(CorralApiException problem)
    {
        foreach (var error in problem.Errors)
        {
            Error.WriteLine(CorralApiException.Format(error));
        }
        var detail = problem.Detail.Length > 0 ? ": " + problem.Detail : "";
        ErrorLine($"corral: {problem.Title}{detail}");
    }
}
