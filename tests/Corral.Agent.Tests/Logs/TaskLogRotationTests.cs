using System.Globalization;
using Corral.Agent.Logs;
using Corral.Agent.Supervisor;
using Corral.Agent.Tests.Supervisor;
using Corral.Testing;

namespace Corral.Agent.Tests.Logs;

public sealed class TaskLogRotationTests
{
    [Fact]
    public async Task Follow_TaskWriting50MB_EveryLineOnceAcrossRotation()
    {
        await using var host = await SupervisorHost.StartAsync();
        const int lines = 500_000; // 100 bytes each, about 135 in the log: 67 MB, more than the 64 segments keep
        const int chunk = 100_000;
        // The task writes in chunks and waits for the reader's "ack-K" file after chunk K. The writer
        // is far faster than a reader on a busy machine (67 MB in about a second), and a reader more
        // than 64 MB behind rightly sees a skip. The handshake keeps the reader at most about 27 MB
        // behind, so rotation still happens under it, whatever the scheduling.
        var spec = host.ShellTask("chatty", $$"""
            k=0
            while [ $k -lt {{lines / chunk}} ]; do
              awk -v from=$((k * {{chunk}})) 'BEGIN { pad = sprintf("%090d", 0); for (i = from; i < from + {{chunk}}; i++) printf "%08d %s\n", i, pad }'
              waited=0
              while [ ! -e ack-$k ]; do
                sleep 0.01; waited=$((waited + 1))
                if [ $waited -gt 12000 ]; then echo "no ack-$k from the reader" >&2; exit 3; fi
              done
              k=$((k + 1))
            done
            """) with
        {
            LogMaxSegmentBytes = 1024 * 1024,
            LogMaxSegments = 64,
        };
        var taskDir = spec.WorkingDirectory;
        var started = host.Track(await host.Client.StartAsync(spec, CancellationToken.None));

        var next = 0;
        var offset = 0L;
        var checkpoints = new List<(long Offset, int Number)>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await foreach (var batch in TaskLogReader.FollowAsync(spec.LogDirectory, 0, TimeSpan.FromMilliseconds(20), timeout.Token))
        {
            Assert.Null(batch.SkippedFrom);
            foreach (var line in batch.Lines)
            {
                Assert.Equal(offset, line.Offset);
                var number = int.Parse(line.Text.AsSpan(0, 8), CultureInfo.InvariantCulture);
                Assert.Equal(next, number);
                if (number % 100_000 == 0)
                {
                    checkpoints.Add((line.Offset, number));
                }
                next++;
                offset = line.NextOffset;
                if (next % chunk == 0)
                {
                    await File.WriteAllTextAsync(Path.Combine(taskDir, $"ack-{next / chunk - 1}"), "", CancellationToken.None);
                }
            }
            if (next == lines)
            {
                break;
            }
        }
        Assert.Equal(lines, next);

        var exit = await host.Client.WaitAsync("chatty", started.Generation, TimeSpan.FromSeconds(60), CancellationToken.None);
        Assert.Equal(0, exit.ExitCode);
        Assert.Equal(offset, exit.LogOffset);
        var segments = LogSegment.List(spec.LogDirectory);
        Assert.True(segments.Count <= 64, $"{segments.Count} segments kept, more than 64");
        Assert.True(segments[0].Start > 0, "no segment was rotated away");
        for (var i = 1; i < segments.Count; i++)
        {
            Assert.Equal(segments[i].Start, segments[i - 1].Start + new FileInfo(segments[i - 1].Path).Length);
        }
        // Offsets are stable: reading again from a recorded offset gives the same line (where it still exists).
        foreach (var (at, number) in checkpoints.Where(c => c.Offset >= segments[0].Start))
        {
            var again = TaskLogReader.Read(spec.LogDirectory, at, 4096).Lines[0];
            Assert.Equal(number, int.Parse(again.Text.AsSpan(0, 8), CultureInfo.InvariantCulture));
        }
        // Reading from an offset that was rotated away says so and resumes at the oldest line.
        var gap = TaskLogReader.Read(spec.LogDirectory, 0, 4096);
        Assert.Equal(0, gap.SkippedFrom);
        Assert.Equal(segments[0].Start, gap.Lines[0].Offset);
    }

    [Fact]
    public void Writer_Reopened_ContinuesOffsetsAndEndsAPartialLine()
    {
        using var dir = new TempDirectory();
        var logDir = dir.Combine("logs");
        using (var writer = new TaskLogWriter(logDir, 1024, 3, TimeProvider.System))
        {
            for (var i = 0; i < 100; i++)
            {
                writer.WriteLine("stdout", System.Text.Encoding.UTF8.GetBytes($"line {i}"));
            }
            writer.Flush();
        }
        var before = TaskLogReader.Read(logDir, 0, int.MaxValue / 4);
        File.AppendAllText(LogSegment.List(logDir)[^1].Path, "partial");

        using (var writer = new TaskLogWriter(logDir, 1024, 3, TimeProvider.System))
        {
            writer.WriteLine("stderr", "after"u8);
            writer.Flush();
        }

        Assert.NotNull(before.SkippedFrom);
        var after = TaskLogReader.Read(logDir, before.NextOffset);
        Assert.Equal(["partial", "after"], after.Lines.Select(l => l.Text));
        Assert.Equal("stderr", after.Lines[1].Stream);
        Assert.True(LogSegment.List(logDir).Count <= 3);
    }
}
