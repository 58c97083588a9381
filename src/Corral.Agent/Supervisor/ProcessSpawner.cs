using System.Collections.Concurrent;
using System.IO.Pipes;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Corral.Agent.Supervisor;

/// <summary>What to spawn: a resolved executable, its full argv and environment, in a new session.</summary>
internal sealed record SpawnRequest(string Path, IReadOnlyList<string> Argv, IReadOnlyList<string> Environment, string WorkingDirectory);

/// <summary>A spawned child: its PID and the read ends of its stdout and stderr pipes.</summary>
internal sealed record SpawnedChild(int Pid, AnonymousPipeClientStream Stdout, AnonymousPipeClientStream Stderr);

/// <summary>
/// Spawns children with <c>posix_spawn</c> from one dedicated thread that lives as long as the process.
/// Linux delivers a child's parent-death signal when the thread that forked it exits, so spawning from
/// pool threads (which come and go) would kill tasks at random; spawning from this thread ties it to
/// the life of the supervisor. Each child starts in a new session (so its PID is its process group),
/// with default signal dispositions, an empty signal mask, stdin on /dev/null and stdout/stderr on pipes.
/// </summary>
internal sealed class ProcessSpawner
{
    private readonly BlockingCollection<(SpawnRequest Request, Action<SpawnedChild> OnSpawned, TaskCompletionSource<SpawnedChild> Done)> _jobs = [];

    public ProcessSpawner()
    {
        var thread = new Thread(Loop) { IsBackground = true, Name = "corral-spawner" };
        thread.Start();
    }

    /// <summary>
    /// Spawns the child; <paramref name="onSpawned"/> runs on the spawner thread right after the spawn
    /// (before the caller resumes), where registering the PID with the reaper and moving it into its
    /// cgroup cannot race with anything the caller does.
    /// </summary>
    public Task<SpawnedChild> SpawnAsync(SpawnRequest request, Action<SpawnedChild> onSpawned)
    {
        var done = new TaskCompletionSource<SpawnedChild>(TaskCreationOptions.RunContinuationsAsynchronously);
        _jobs.Add((request, onSpawned, done));
        return done.Task;
    }

    private void Loop()
    {
        foreach (var (request, onSpawned, done) in _jobs.GetConsumingEnumerable())
        {
            try
            {
                var child = Spawn(request);
                onSpawned(child);
                done.SetResult(child);
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        }
    }

    private static unsafe SpawnedChild Spawn(SpawnRequest request)
    {
        var outFds = stackalloc int[2];
        var errFds = stackalloc int[2];
        if (Interop.pipe2(outFds, Interop.O_CLOEXEC) != 0)
        {
            throw new IOException($"pipe2 failed: errno {Marshal.GetLastPInvokeError()}");
        }
        if (Interop.pipe2(errFds, Interop.O_CLOEXEC) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            Interop.close(outFds[0]);
            Interop.close(outFds[1]);
            throw new IOException($"pipe2 failed: errno {errno}");
        }

        var allocations = new List<nint>();
        var attr = (void*)NativeMemory.AllocZeroed(Interop.SpawnAttrSize);
        var actions = (void*)NativeMemory.AllocZeroed(Interop.FileActionsSize);
        var sigset = (void*)NativeMemory.AllocZeroed(Interop.SigSetSize);
        var spawned = false;
        try
        {
            var path = Utf8(request.Path, allocations);
            var argv = StringArray(request.Argv, allocations);
            var envp = StringArray(request.Environment, allocations);
            var devNull = Utf8("/dev/null", allocations);
            var cwd = Utf8(request.WorkingDirectory, allocations);

            Interop.posix_spawnattr_init(attr);
            Interop.posix_spawnattr_setflags(attr, Interop.PosixSpawnSetSid | Interop.PosixSpawnSetSigDef | Interop.PosixSpawnSetSigMask);
            Interop.sigemptyset(sigset);
            Interop.posix_spawnattr_setsigmask(attr, sigset);
            Interop.sigfillset(sigset);
            Interop.posix_spawnattr_setsigdefault(attr, sigset);

            Interop.posix_spawn_file_actions_init(actions);
            Interop.posix_spawn_file_actions_addopen(actions, 0, devNull, Interop.O_RDONLY, 0);
            Interop.posix_spawn_file_actions_adddup2(actions, outFds[1], 1);
            Interop.posix_spawn_file_actions_adddup2(actions, errFds[1], 2);
            Interop.posix_spawn_file_actions_addchdir_np(actions, cwd);

            var rc = Interop.posix_spawn(out var pid, path, actions, attr, argv, envp);
            Interop.posix_spawn_file_actions_destroy(actions);
            Interop.posix_spawnattr_destroy(attr);
            if (rc != 0)
            {
                throw new IOException($"cannot start {request.Path}: {new System.ComponentModel.Win32Exception(rc).Message}");
            }
            spawned = true;
            Interop.close(outFds[1]);
            Interop.close(errFds[1]);
            var stdout = new AnonymousPipeClientStream(PipeDirection.In, new SafePipeHandle(outFds[0], ownsHandle: true));
            var stderr = new AnonymousPipeClientStream(PipeDirection.In, new SafePipeHandle(errFds[0], ownsHandle: true));
            return new SpawnedChild(pid, stdout, stderr);
        }
        finally
        {
            foreach (var p in allocations)
            {
                NativeMemory.Free((void*)p);
            }
            NativeMemory.Free(attr);
            NativeMemory.Free(actions);
            NativeMemory.Free(sigset);
            if (!spawned)
            {
                Interop.close(outFds[0]);
                Interop.close(outFds[1]);
                Interop.close(errFds[0]);
                Interop.close(errFds[1]);
            }
        }
    }

    private static unsafe byte* Utf8(string value, List<nint> allocations)
    {
        var bytes = Encoding.UTF8.GetByteCount(value);
        var p = (byte*)NativeMemory.Alloc((nuint)bytes + 1);
        allocations.Add((nint)p);
        fixed (char* c = value)
        {
            Encoding.UTF8.GetBytes(c, value.Length, p, bytes);
        }
        p[bytes] = 0;
        return p;
    }

    private static unsafe byte** StringArray(IReadOnlyList<string> values, List<nint> allocations)
    {
        var array = (byte**)NativeMemory.Alloc((nuint)(values.Count + 1), (nuint)sizeof(byte*));
        allocations.Add((nint)array);
        for (var i = 0; i < values.Count; i++)
        {
            array[i] = Utf8(values[i], allocations);
        }
        array[values.Count] = null;
        return array;
    }
}
