using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Corral.Agent.Logs;

/// <summary>
/// Reads a task's segmented log from an offset. A read returns only whole lines and the offset just
/// after the last one, so a reader that always continues from <see cref="LogReadResult.NextOffset"/>
/// sees every line exactly once, across rotation and across restarts of the writer or the reader.
/// </summary>
public static class TaskLogReader
{
    /// <summary>Reads whole lines starting at <paramref name="offset"/>, about <paramref name="maxBytes"/> at most (at least one line).</summary>
    public static LogReadResult Read(string directory, long offset, int maxBytes = 256 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return ReadOnce(directory, offset, maxBytes);
            }
            catch (FileNotFoundException) when (attempt < 5)
            {
                // The segment was rotated away between listing and opening: list again.
            }
        }
    }

    /// <summary>
    /// Yields batches of lines from <paramref name="offset"/> on, polling every <paramref name="pollInterval"/>
    /// when there is nothing new, until <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public static async IAsyncEnumerable<LogReadResult> FollowAsync(
        string directory,
        long offset,
        TimeSpan pollInterval,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var result = Read(directory, offset);
            if (result.Lines.Count > 0 || result.SkippedFrom is not null)
            {
                offset = result.NextOffset;
                yield return result;
                continue;
            }
            try
            {
                await Task.Delay(pollInterval, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
        }
    }

    private static LogReadResult ReadOnce(string directory, long offset, int maxBytes)
    {
        var segments = LogSegment.List(directory);
        if (segments.Count == 0)
        {
            return new LogReadResult([], offset, null);
        }
        long? skipped = null;
        if (offset < segments[0].Start)
        {
            skipped = offset;
            offset = segments[0].Start;
        }
        var index = segments.FindLastIndex(s => s.Start <= offset);
        var lines = new List<LogLine>();
        var budget = maxBytes;
        while (index < segments.Count)
        {
            var segment = segments[index];
            var next = index + 1 < segments.Count ? segments[index + 1] : null;
            using var file = new FileStream(segment.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
            var position = offset - segment.Start;
            if (position < file.Length)
            {
                file.Seek(position, SeekOrigin.Begin);
                var want = (int)Math.Min(file.Length - position, Math.Max(budget, 1));
                var buffer = new byte[want];
                var read = file.ReadAtLeast(buffer, want, throwOnEndOfStream: false);
                var consumed = ParseLines(buffer.AsSpan(0, read), offset, lines);
                if (consumed == 0 && read == want && want < file.Length - position)
                {
                    // A single line longer than the budget: read it whole.
                    budget = (int)Math.Min(file.Length - position, int.MaxValue / 2);
                    continue;
                }
                offset += consumed;
                budget -= consumed;
                if (budget <= 0 || consumed < read)
                {
                    break;
                }
            }
            if (next is null || offset < next.Start)
            {
                break;
            }
            index++;
        }
        return new LogReadResult(lines, offset, skipped);
    }

    private static int ParseLines(ReadOnlySpan<byte> data, long offset, List<LogLine> lines)
    {
        var consumed = 0;
        while (true)
        {
            var newline = data[consumed..].IndexOf((byte)'\n');
            if (newline < 0)
            {
                return consumed;
            }
            var raw = data.Slice(consumed, newline);
            var start = offset + consumed;
            consumed += newline + 1;
            lines.Add(Parse(raw, start, offset + consumed));
        }
    }

    private static LogLine Parse(ReadOnlySpan<byte> raw, long start, long next)
    {
        var text = Encoding.UTF8.GetString(raw);
        var first = text.IndexOf(' ', StringComparison.Ordinal);
        var second = first < 0 ? -1 : text.IndexOf(' ', first + 1);
        if (first > 0 && second > first
            && DateTimeOffset.TryParseExact(text[..first], "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return new LogLine(start, next, time, text[(first + 1)..second], text[(second + 1)..]);
        }
        return new LogLine(start, next, null, string.Empty, text);
    }
}
