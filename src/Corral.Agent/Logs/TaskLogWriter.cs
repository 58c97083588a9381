using System.Text;

namespace Corral.Agent.Logs;

/// <summary>
/// Appends a task's output to size-rotated segment files, one line per output line:
/// <c>2026-11-21T23:40:00.123456Z stdout text</c>. Offsets continue across restarts of the task (and of
/// the supervisor): a new writer on the same directory resumes at the end of the newest segment.
/// Only whole lines are written, each with one write call, and a segment is complete before the next
/// one is created, which is what lets <see cref="TaskLogReader"/> follow without gaps or duplicates.
/// Thread-safe.
/// </summary>
public sealed class TaskLogWriter : IDisposable
{
    /// <summary>Small on purpose: the writer is flushed after each read from the task, and 100 tasks share one supervisor.</summary>
    private const int WriteBufferSize = 4096;

    private readonly Lock _lock = new();
    private readonly string _directory;
    private readonly long _maxSegmentBytes;
    private readonly int _maxSegments;
    private readonly TimeProvider _time;
    private FileStream? _current;
    private long _currentStart;
    private long _offset;
    private byte[] _buffer = [];

    /// <param name="directory">Where the segments live; created when missing.</param>
    /// <param name="maxSegmentBytes">A segment is closed once the next line would take it past this size.</param>
    /// <param name="maxSegments">Segments kept, the newest included; older ones are deleted.</param>
    /// <param name="time">Clock for the line timestamps.</param>
    public TaskLogWriter(string directory, long maxSegmentBytes, int maxSegments, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSegmentBytes, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSegments, 1);
        _directory = directory;
        _maxSegmentBytes = maxSegmentBytes;
        _maxSegments = maxSegments;
        _time = time;
        Directory.CreateDirectory(directory);
        var segments = LogSegment.List(directory);
        if (segments.Count > 0)
        {
            var last = segments[^1];
            _current = new FileStream(last.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, WriteBufferSize);
            _currentStart = last.Start;
            var length = _current.Length;
            if (length > 0)
            {
                // A writer killed mid-line leaves a partial line: end it so the next line stands alone.
                _current.Seek(-1, SeekOrigin.End);
                var lastByte = _current.ReadByte();
                _current.Seek(0, SeekOrigin.End);
                if (lastByte != '\n')
                {
                    _current.WriteByte((byte)'\n');
                    _current.Flush();
                    length++;
                }
            }
            _offset = last.Start + length;
        }
    }

    /// <summary>The log offset just past the last byte written.</summary>
    public long Offset
    {
        get
        {
            lock (_lock)
            {
                return _offset;
            }
        }
    }

    /// <summary>Appends one line tagged with <paramref name="stream"/> (<c>stdout</c>/<c>stderr</c>); a trailing CR is dropped.</summary>
    public void WriteLine(string stream, ReadOnlySpan<byte> text)
    {
        if (text.Length > 0 && text[^1] == '\r')
        {
            text = text[..^1];
        }
        lock (_lock)
        {
            var now = _time.GetUtcNow().UtcDateTime;
            Span<byte> stamp = stackalloc byte[40];
            var stampLength = Encoding.ASCII.GetBytes(now.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture), stamp);
            var streamLength = Encoding.ASCII.GetByteCount(stream);
            var total = stampLength + 1 + streamLength + 1 + text.Length + 1;
            if (_buffer.Length < total)
            {
                _buffer = new byte[Math.Max(total, _buffer.Length * 2)];
            }
            var span = _buffer.AsSpan();
            stamp[..stampLength].CopyTo(span);
            var at = stampLength;
            span[at++] = (byte)' ';
            at += Encoding.ASCII.GetBytes(stream, span[at..]);
            span[at++] = (byte)' ';
            text.CopyTo(span[at..]);
            at += text.Length;
            span[at++] = (byte)'\n';

            var current = CurrentFor(total);
            current.Write(_buffer, 0, at);
            _offset += at;
        }
    }

    /// <summary>Pushes written lines to the file system, where readers see them.</summary>
    public void Flush()
    {
        lock (_lock)
        {
            _current?.Flush();
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _current?.Dispose();
            _current = null;
        }
    }

    private FileStream CurrentFor(int lineBytes)
    {
        if (_current is not null)
        {
            var size = _offset - _currentStart;
            if (size == 0 || size + lineBytes <= _maxSegmentBytes)
            {
                return _current;
            }
            _current.Flush();
            _current.Dispose();
            _current = null;
        }
        _currentStart = _offset;
        _current = new FileStream(Path.Combine(_directory, LogSegment.FileName(_offset)), FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, WriteBufferSize);
        Prune();
        return _current;
    }

    private void Prune()
    {
        var segments = LogSegment.List(_directory);
        for (var i = 0; i < segments.Count - _maxSegments; i++)
        {
            try
            {
                File.Delete(segments[i].Path);
            }
            catch (IOException)
            {
                // Deleted by someone else already; the next rotation tries again.
            }
        }
    }
}
